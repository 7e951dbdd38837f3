"""The household the custom actions talk to: the family (settings, time zone, the children
in the family store) and its stores (timeline, alerts, mutes, labels, games), one object
per action-server process. The children are read from the store on each call, so a child
added or renamed in the app or with `cradle family` is known to the next question.

The actions never open Redis or read settings themselves: `household()` builds a `Household`
once (from the environment `cradle up` gives the action server) and every action asks
it for the timeline, the alerts, the games and the family. Tests hand in their own with
`use_household`, built over the test's Redis.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import redis

from services.alerts import AlertStore, Mutes
from services.bus import Publisher
from services.bus.events import utcnow
from services.family import Child, FamilyStore
from services.games import GameStore, open_store
from services.labels import LabelStore
from services.redis_runtime import connect
from services.settings import Settings, load_settings
from services.timeline import Clock, Timeline


class UnknownChild(LookupError):
    """A question named a child the family does not have; the message says who is known."""


@dataclass
class Household:
    settings: Settings
    client: redis.Redis
    clock: Clock = field(default=utcnow)

    @property
    def timezone(self) -> ZoneInfo:
        """The family's time zone: times are spoken in it."""
        return self.settings.family.zone

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def timeline(self) -> Timeline:
        return Timeline.from_settings(self.client, self.settings, clock=self.clock)

    @cached_property
    def alerts(self) -> AlertStore:
        return AlertStore(self.client, self.settings.alerts.retention_days)

    @cached_property
    def labels(self) -> LabelStore:
        """The labels store the Teach screen writes too."""
        return LabelStore.of(self.client, self.settings)

    @cached_property
    def mutes(self) -> Mutes:
        return Mutes(self.client)

    @cached_property
    def publisher(self) -> Publisher:
        return Publisher(self.client, self.settings.bus)

    @cached_property
    def games(self) -> GameStore:
        """The games store; loads MiniLM on first use (a second or two)."""
        return open_store(self.client, self.settings.models_dir)

    @cached_property
    def family(self) -> FamilyStore:
        return FamilyStore(self.client, self.settings)

    @property
    def children(self) -> list[Child]:
        """The family's children, the default one first, as the store holds them now."""
        return self.family.children()

    def child(self, named: str | None = None) -> Child:
        """The child a question is about: the one `named` means (id, name, nickname, "Mia's",
        a close misspelling), else the first. UnknownChild for a name that is no one's."""
        if not named:
            return self.children[0]
        found = self.family.find(named)
        if found is None:
            known = ", ".join(c.spoken_name for c in self.children)
            raise UnknownChild(f"I don't know {named}. I know {known}.")
        return found


_lock = threading.Lock()
_household: Household | None = None


def household() -> Household:
    """The process's household, built on first use from the settings in the environment."""
    global _household
    with _lock:
        if _household is None:
            settings = load_settings()
            if not settings.redis.url:
                raise RuntimeError("the action server needs CRADLE_REDIS__URL (cradle up sets it)")
            _household = Household(settings, connect(settings.redis.url, settings))
        return _household


@contextlib.contextmanager
def use_household(replacement: Household) -> Iterator[Household]:
    """Run the actions against `replacement` (tests), restoring the previous one after."""
    global _household
    with _lock:
        previous, _household = _household, replacement
    try:
        yield replacement
    finally:
        with _lock:
            _household = previous
