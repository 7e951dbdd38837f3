"""The family's users and their bearer tokens, kept in Redis.

A user has a name and a role (`parent` or `caregiver`). A token is shown once when made;
Redis keeps only its SHA-256 (tokens are 256 random bits, so a fast hash is enough: there
is nothing to brute-force). Revoking a user removes every token they hold at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum

import redis
from pydantic import BaseModel, Field

USERS_KEY = "cradle:auth:users"
TOKEN_KEY = "cradle:auth:token:{digest}"
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9 ._'-]{0,39}$")


class Role(StrEnum):
    parent = "parent"
    caregiver = "caregiver"


class User(BaseModel):
    name: str
    role: Role
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    token_ids: list[str] = Field(default_factory=list)


class AuthError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, name: str) -> User | None:
        raw = self.client.hget(USERS_KEY, name.lower())
        return User.model_validate_json(raw) if raw else None

    def all(self) -> list[User]:
        raw = self.client.hgetall(USERS_KEY)
        return sorted(
            (User.model_validate_json(v) for v in raw.values()),
            key=lambda user: user.name.lower(),
        )

    def add(self, name: str, role: Role) -> tuple[User, str]:
        """Create a user and their first token; returns the token (shown once)."""
        if not NAME_PATTERN.match(name):
            raise AuthError(
                f"invalid name {name!r}: start with a letter; letters, digits, spaces and "
                "._'- only; at most 40 characters"
            )
        if self.get(name):
            raise AuthError(f"user {name!r} exists; use 'cradle users token {name}' for a new token")
        return self._issue(User(name=name, role=role))

    def issue_token(self, name: str) -> tuple[User, str]:
        user = self.get(name)
        if user is None:
            raise AuthError(f"no user named {name!r}")
        return self._issue(user)

    def _issue(self, user: User) -> tuple[User, str]:
        token = "cr_" + secrets.token_urlsafe(32)
        token_id = digest(token)[:12]
        user = user.model_copy(update={"token_ids": [*user.token_ids, token_id]})
        record = json.dumps({"user": user.name.lower(), "token_id": token_id})
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(USERS_KEY, user.name.lower(), user.model_dump_json())
        pipe.set(TOKEN_KEY.format(digest=digest(token)), record)
        pipe.execute()
        return user, token

    def revoke(self, name: str) -> User:
        """Remove the user and every token they hold."""
        user = self.get(name)
        if user is None:
            raise AuthError(f"no user named {name!r}")
        pattern = TOKEN_KEY.format(digest="*")
        doomed = [
            key
            for key in self.client.scan_iter(match=pattern, count=500)
            if json.loads(self.client.get(key) or "{}").get("user") == user.name.lower()
        ]
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(USERS_KEY, user.name.lower())
        if doomed:
            pipe.delete(*doomed)
        pipe.execute()
        return user

    def verify(self, token: str) -> User | None:
        """The user holding `token`, or None. Raises redis errors when Redis is down."""
        if not token.startswith("cr_") or len(token) > 200:
            return None
        record = self.client.get(TOKEN_KEY.format(digest=digest(token)))
        if not record:
            return None
        return self.get(json.loads(record)["user"])
