"""A game: the strict schema every catalogue entry and every saved game must satisfy."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"


class Place(StrEnum):
    indoor = "indoor"
    outdoor = "outdoor"
    bath = "bath"
    car = "car"
    bedtime = "bedtime"


class Energy(StrEnum):
    calm = "calm"
    active = "active"


class Skill(StrEnum):
    language = "language"
    motor = "motor"
    sensory = "sensory"
    social = "social"
    cognitive = "cognitive"
    music = "music"


class GameError(ValueError):
    """A game, a catalogue file or a game id is not what it should be; the message says why."""


# What a saved game's text may not hold: control characters (a newline only in steps and
# safety), bidi overrides and isolates (they make text read other than it is stored, e.g.
# a title that shows reversed), and lone surrogates (no store or embedder can take them).
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain(text: str, control: re.Pattern[str], allowed: str) -> str:
    if _SURROGATE.search(text):
        raise ValueError("holds a lone surrogate (\\ud800-\\udfff): send the text as UTF-8")
    for pattern, what in ((control, f"a control character ({allowed})"),
                          (_BIDI, "a bidi override, which makes text read other than it is")):
        found = pattern.search(text)
        if found:
            raise ValueError(f"holds U+{ord(found.group()):04X}, {what}")
    if not text.strip():
        raise ValueError("is blank")
    return text


def _line(text: str) -> str:
    return _plain(text, _CONTROL_IN_LINE, "none is allowed")


def _text(text: str) -> str:
    return _plain(text, _CONTROL_IN_TEXT, "only a newline is allowed")


Line = Annotated[str, AfterValidator(_line)]  # one line of plain text
Text = Annotated[str, AfterValidator(_text)]  # plain text, newlines allowed


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise GameError(f"a game title needs letters or digits, got {title!r}")
    return slug


class Game(BaseModel):
    """One game or activity for a child aged `age_months[0]` to `age_months[1]` months."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field("", pattern=r"^([a-z0-9]+(-[a-z0-9]+)*)?$", description="slug; from the title when empty")
    title: Line = Field(min_length=3, max_length=80)
    age_months: tuple[int, int] = Field(description="youngest and oldest age in months, 0-48")
    places: list[Place] = Field(min_length=1, max_length=len(Place))
    energy: Energy
    materials: list[Annotated[Line, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20, description="empty: no toys needed")
    minutes: int = Field(ge=1, le=120, description="typical duration")
    skills: list[Skill] = Field(min_length=1, max_length=len(Skill))
    steps: list[Annotated[Text, Field(min_length=3, max_length=500)]] = Field(min_length=2, max_length=5)
    safety: Text = Field(min_length=5, max_length=1000)
    added_by: str = Field("", max_length=100, description="who saved it; empty for the shipped catalogue")

    @field_validator("age_months")
    @classmethod
    def _ages(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 0 <= low <= high <= 48:
            raise ValueError(f"must be [min, max] months with 0 <= min <= max <= 48, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _id_from_title(self) -> Game:
        if not self.id:
            object.__setattr__(self, "id", slugify(self.title))
        return self

    def text(self) -> str:
        """What the embedding reads: the title weighs most, then what you do."""
        return f"{self.title}. {self.title}. {' '.join(self.steps)} Skills: {', '.join(self.skills)}."


def parse_game(raw: Any, where: str) -> Game:
    """Validate one entry; `where` names the file and entry in the error."""
    try:
        return Game.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors()
        )
        raise GameError(f"{where}: {problems}") from exc


def load_file(path: Path) -> list[Game]:
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GameError(f"{path.name}: not valid YAML ({exc}); fix the file and import again") from exc
    if not isinstance(entries, list):
        raise GameError(f"{path.name}: expected a list of games, got {type(entries).__name__}")
    games = []
    for index, raw in enumerate(entries, start=1):
        title = raw.get("title", "?") if isinstance(raw, dict) else "?"
        games.append(parse_game(raw, f"{path.name}, game {index} ({title!r})"))
    return games


def load_catalogue(folder: Path = CATALOGUE_DIR) -> list[Game]:
    """Every game in every `*.yaml` under `folder`; ids must be unique across files."""
    games: list[Game] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        for game in load_file(path):
            if game.id in seen:
                raise GameError(f"{path.name}: game id {game.id!r} is also in {seen[game.id]}")
            seen[game.id] = path.name
            games.append(game)
    if not games:
        raise GameError(f"no games under {folder}; expected *.yaml files")
    return games
