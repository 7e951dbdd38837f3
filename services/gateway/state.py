"""What the gateway holds for its lifetime: settings, the Redis pool, the Celery sender,
the user store, the upload prober's helpers and a token cache for Redis outages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
import redis
from celery import Celery

from services.auth import User, UserStore, digest
from services.gateway.probe import Prober
from services.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    redis: redis.Redis
    celery: Celery
    users: UserStore
    http: httpx.AsyncClient
    prober: Prober
    _verified: dict[str, tuple[User, float]] = field(default_factory=dict)

    def remember(self, token: str, user: User) -> None:
        self._verified[digest(token)] = (user, time.monotonic())

    def recently_verified(self, token: str) -> User | None:
        """The user a token belonged to when last checked, if within the cache window."""
        hit = self._verified.get(digest(token))
        if hit and time.monotonic() - hit[1] <= self.settings.auth.token_cache_s:
            return hit[0]
        return None
