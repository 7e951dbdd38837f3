"""Which games fit (hard filters) and in what order (meaning, ratings, the child's state)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.games.model import Energy, Game, Place, Skill

TIRED_AFTER_MINUTES = 150  # awake this long since the last nap: a toddler is usually tiring
CALM_MOODS = frozenset({"upset", "sleep", "tired", "cranky", "crying"})
RATING_WEIGHT = 0.12  # one like is worth a little less than a clearly closer meaning
CONTEXT_WEIGHT = 0.15


@dataclass(frozen=True)
class Filters:
    """Hard constraints: a game that misses one is never returned."""

    age_months: int | None = None
    place: Place | None = None
    energy: Energy | None = None
    no_toys: bool = False
    skill: Skill | None = None
    material: str | None = None

    def allows(self, game: Game) -> bool:
        low, high = game.age_months
        return (
            (self.age_months is None or low <= self.age_months <= high)
            and (self.place is None or self.place in game.places)
            and (self.energy is None or game.energy == self.energy)
            and not (self.no_toys and game.materials)
            and (self.skill is None or self.skill in game.skills)
            and (self.material is None or any(self.material.lower() in m.lower() for m in game.materials))
        )


@dataclass(frozen=True)
class Context:
    """The child's state right now: the latest mood and minutes since the last nap ended."""

    mood: str | None = None
    minutes_since_nap: float | None = None

    def wants_calm(self) -> bool:
        tired = self.minutes_since_nap is not None and self.minutes_since_nap >= TIRED_AFTER_MINUTES
        return tired or (self.mood or "").lower() in CALM_MOODS

    def bonus(self, game: Game) -> float:
        if self.wants_calm():
            return CONTEXT_WEIGHT if game.energy == Energy.calm else -CONTEXT_WEIGHT
        if (self.mood or "").lower() == "happy" and game.energy == Energy.active:
            return CONTEXT_WEIGHT / 3
        return 0.0


def rating_bonus(net_likes: int) -> float:
    """Likes minus dislikes, saturating so one loved game cannot drown every query."""
    return RATING_WEIGHT * math.tanh(net_likes / 2)
