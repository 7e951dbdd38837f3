"""Request dependencies: the gateway state, the family's timeline and children, the
signed-in user and a parent."""

from __future__ import annotations

import logging
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.auth import Role, User
from services.family import FamilyStore
from services.gateway.state import GatewayState
from services.timeline.store import Timeline

log = logging.getLogger("cradle.auth")
bearer = HTTPBearer(auto_error=False, description="A token from 'cradle users add'.")


def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.cradle
    return state


State = Annotated[GatewayState, Depends(get_state)]


def timeline_of(state: State) -> Timeline:
    """The family's timeline, built from the settings: every route reaches it this way,
    as the dependency below or called with the state it already has."""
    return Timeline.from_settings(state.redis, state.settings)


FamilyTimeline = Annotated[Timeline, Depends(timeline_of)]


def family_of(state: State) -> FamilyStore:
    """The family's children, read from Redis on each call (edits are seen at once)."""
    return FamilyStore(state.redis, state.settings)


Family = Annotated[FamilyStore, Depends(family_of)]


def _refuse(request: Request, why: str) -> HTTPException:
    # Never log the token itself: only that it was missing or wrong.
    client = request.client.host if request.client else "-"
    log.warning("unauthorised request", extra={"path": request.url.path, "why": why, "client": client})
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=f"{why}: send 'Authorization: Bearer <token>' with a token from 'cradle users add'",
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_user(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None or not credentials.credentials:
        raise _refuse(request, "missing bearer token")
    token = credentials.credentials
    try:
        user = state.users.verify(token)
    except (redis.RedisError, OSError) as exc:
        user = state.recently_verified(token)
        if user is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"cannot check tokens: Redis is unreachable ({type(exc).__name__})",
            ) from exc
        return user
    if user is None:
        raise _refuse(request, "unknown or revoked token")
    state.remember(token, user)
    request.state.user = user.name
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def parent(user: CurrentUser) -> User:
    """The signed-in user, when a parent: a caregiver may look, not change the family."""
    if user.role != Role.parent:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only a parent may change this")
    return user


ParentUser = Annotated[User, Depends(parent)]
