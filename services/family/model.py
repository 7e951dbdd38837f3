"""A child of the family, as the family set them up: a name (accents welcome), nicknames,
a pronoun, a birth date and the cameras that watch them; and the errors the store gives.

The id is what events, the timeline and the alerts name the child by. It is made once
from the first name (`slug`) or taken from the settings the family started with, and
never changes, so a child renamed keeps their history.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.family.names import fold

Pronoun = Literal["she", "he", "they"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
NAME_MAX = 60
OLDEST_YEARS = 18  # Cradle is for the nursery: a birth date further back is a typo
_NAME_MARKS = " '\u2019-."  # the curly apostrophe too: phones type it


class FamilyError(ValueError):
    """A change to the family that cannot be made; the message says what was wrong."""


class UnknownChildError(FamilyError, LookupError):
    """No child of the family goes by that name."""


class DuplicateName(FamilyError):
    """A name or nickname another child already has (compared without case or accents)."""


class LastChild(FamilyError):
    """The family's only child cannot be removed: every part of Cradle speaks of one."""


class UnknownCamera(FamilyError):
    """A camera that is not configured (camera.cameras, or the demo camera)."""


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def check_name(name: str) -> str:
    """A name people say: starts with a letter; letters of any alphabet, accents, digits,
    spaces, apostrophes, - and . only; at most NAME_MAX characters. Returns it tidied."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a name has 1 to {NAME_MAX} characters")
    if not name[0].isalpha():
        raise ValueError(f"{name!r} must start with a letter")
    if any(not (ch.isalnum() or ch in _NAME_MARKS) for ch in name) or not fold(name):
        raise ValueError(f"{name!r}: use letters, digits, spaces and ' - . only")
    return name


def check_born(born: date | None, today: date | None = None) -> date | None:
    """A birth date not in the future and at most OLDEST_YEARS years ago."""
    if born is None:
        return None
    today = today or date.today()
    if born > today:
        raise ValueError(f"born {born.isoformat()} is in the future")
    if born < years_before(today, OLDEST_YEARS):
        raise ValueError(f"born {born.isoformat()} is more than {OLDEST_YEARS} years ago")
    return born


class Child(BaseModel):
    """One child. Stored as JSON; validated on every change. A stored child is not held to
    the age bound again (`context={"stored": True}`): a child who grows up stays readable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN, description="What events and the timeline call the child.")
    name: str = Field(max_length=NAME_MAX, description="The name Cradle says.")
    nicknames: tuple[str, ...] = Field(default=(), max_length=8, description="Other names the family uses.")
    pronoun: Pronoun = Field(default="they", description="she, he or they.")
    born: date | None = Field(default=None, description="Date of birth: game ages come from it.")
    cameras: tuple[str, ...] = Field(default=(), max_length=16, description="Cameras that watch this child.")

    @field_validator("name")
    @classmethod
    def _a_name(cls, name: str) -> str:
        return check_name(name)

    @field_validator("nicknames")
    @classmethod
    def _nicknames(cls, nicknames: tuple[str, ...]) -> tuple[str, ...]:
        once: dict[str, str] = {}
        for nickname in nicknames:
            once.setdefault(fold(check_name(nickname)), " ".join(nickname.split()))
        return tuple(once.values())

    @field_validator("born")
    @classmethod
    def _born(cls, born: date | None, info: ValidationInfo) -> date | None:
        if born is not None and isinstance(info.context, dict) and info.context.get("stored"):
            return born
        return check_born(born)

    @field_validator("cameras")
    @classmethod
    def _cameras(cls, cameras: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(camera.strip() for camera in cameras if camera.strip()))

    @property
    def spoken_name(self) -> str:
        return self.name

    @property
    def names(self) -> list[str]:
        """Every name the child answers to, folded: the name, the nicknames and the id."""
        return list(dict.fromkeys(fold(n) for n in (self.name, *self.nicknames, self.id) if fold(n)))

    def age_months(self, today: date) -> int | None:
        """Age in completed months, None without a birth date."""
        if self.born is None:
            return None
        born = self.born
        return (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
