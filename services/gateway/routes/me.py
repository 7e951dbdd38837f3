"""`/api/me`: who the token belongs to, and the family's children as the family store holds
them now (the web app's screens and the words it uses, "How is she?", come from them)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from services.auth import Role
from services.gateway.deps import CurrentUser, Family

router = APIRouter(prefix="/api", tags=["users"])


class Child(BaseModel):
    id: str
    name: str
    pronoun: Literal["she", "he", "they"]
    born: date | None


class Me(BaseModel):
    name: str
    role: Role
    children: list[Child]


@router.get("/me", response_model=Me, summary="The signed-in user and the family's children")
def me(user: CurrentUser, family: Family) -> Me:
    children = [Child(id=c.id, name=c.name, pronoun=c.pronoun, born=c.born) for c in family.children()]
    return Me(name=user.name, role=user.role, children=children)
