"""`/api/me`: who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.auth import Role
from services.gateway.deps import CurrentUser

router = APIRouter(prefix="/api", tags=["users"])


class Me(BaseModel):
    name: str
    role: Role


@router.get("/me", response_model=Me, summary="The signed-in user")
def me(user: CurrentUser) -> Me:
    return Me(name=user.name, role=user.role)
