"""The Family screen's routes: `GET /api/family` (the children, the caregivers and their
roles, the cameras a child may be given) for anyone signed in; `POST /api/family/children`,
`PATCH` and `DELETE /api/family/children/{child}` for parents only (a caregiver gets 403).

Changes go to the family store (services/family), which every part reads on each call.
A name another child has, or removing the only child, is 409; an unknown child 404; a bad
date, name or camera 422.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.auth import Role, UserStore
from services.family import (
    Child,
    DuplicateName,
    FamilyError,
    FamilyStore,
    LastChild,
    Pronoun,
    UnknownChildError,
)
from services.family.model import NAME_MAX
from services.gateway.deps import CurrentUser, Family, ParentUser

router = APIRouter(prefix="/api/family", tags=["family"])
UNPROCESSABLE = 422  # by number, as validation.py does: starlette renamed its constant
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
Camera = Annotated[str, StringConstraints(min_length=1, max_length=40)]
ChildId = Annotated[str, Path(min_length=1, max_length=100, description="The child's id (or name).")]


class ChildOut(BaseModel):
    id: str
    name: str
    nicknames: list[str]
    pronoun: Pronoun
    born: date | None
    age_months: int | None = Field(description="Completed months today; null without a birth date.")
    cameras: list[str]

    @classmethod
    def of(cls, child: Child) -> ChildOut:
        return cls(id=child.id, name=child.name, nicknames=list(child.nicknames), pronoun=child.pronoun,
                   born=child.born, age_months=child.age_months(date.today()), cameras=list(child.cameras))


class Caregiver(BaseModel):
    name: str
    role: Role


class FamilyOut(BaseModel):
    children: list[ChildOut] = Field(description="The default child first.")
    caregivers: list[Caregiver]
    cameras: list[str] = Field(description="The cameras a child may be given.")


class NewChild(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    born: date = Field(description="Date of birth, at most 18 years ago and not in the future.")
    pronoun: Pronoun = "they"
    nicknames: list[Name] = Field(default_factory=list, max_length=8)
    cameras: list[Camera] = Field(default_factory=list, max_length=16)


class ChildChanges(BaseModel):
    """What to change; a field left out stays as it was, a list given replaces the old one
    (`[]` clears it). None of them may be null."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    born: date | None = None
    pronoun: Pronoun | None = None
    nicknames: list[Name] | None = Field(default=None, max_length=8)
    cameras: list[Camera] | None = Field(default=None, max_length=16)


def refused(exc: FamilyError) -> HTTPException:
    if isinstance(exc, UnknownChildError):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, DuplicateName | LastChild):
        code = status.HTTP_409_CONFLICT
    else:
        code = UNPROCESSABLE
    return HTTPException(code, detail=str(exc))


def family_out(family: FamilyStore) -> FamilyOut:
    caregivers = [Caregiver(name=user.name, role=user.role) for user in UserStore(family.client).all()]
    return FamilyOut(children=[ChildOut.of(c) for c in family.children()], caregivers=caregivers,
                     cameras=family.cameras())


@router.get("", response_model=FamilyOut, summary="The children and who looks after them")
def show(_user: CurrentUser, family: Family) -> FamilyOut:
    return family_out(family)


@router.post("/children", response_model=ChildOut, status_code=status.HTTP_201_CREATED,
             summary="Add a child (parents)")
def add(new: NewChild, _parent: ParentUser, family: Family) -> ChildOut:
    try:
        return ChildOut.of(family.add(new.name, born=new.born, pronoun=new.pronoun, nicknames=new.nicknames,
                                      cameras=new.cameras))
    except FamilyError as exc:
        raise refused(exc) from exc


@router.patch("/children/{child}", response_model=ChildOut, summary="Change a child (parents)")
def edit(child: ChildId, changes: ChildChanges, _parent: ParentUser, family: Family) -> ChildOut:
    given: dict[str, Any] = {field: getattr(changes, field) for field in changes.model_fields_set}
    if not given or None in given.values():
        raise HTTPException(UNPROCESSABLE,
                            detail="give name, born, pronoun, nicknames or cameras, none of them null")
    try:
        return ChildOut.of(family.edit(child, **given))
    except FamilyError as exc:
        raise refused(exc) from exc


@router.delete("/children/{child}", response_model=ChildOut, summary="Remove a child (parents)")
def remove(child: ChildId, _parent: ParentUser, family: Family) -> ChildOut:
    try:
        return ChildOut.of(family.remove(child))
    except FamilyError as exc:
        raise refused(exc) from exc
