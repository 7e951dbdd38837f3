"""Actions run as the action server runs them: a tracker like the one Rasa sends, a
`CollectingDispatcher`, and a `Household` over the tests' Redis with a clock the test holds.

    def test_x(backend: Household) -> None:
        backend.timeline.add(...)
        reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions.household import Household, use_household
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings
from tests.services.alerts.factories import Clock

# Friday 20 November 2026, 19:00 UTC: 2 pm in the family's time zone (New York, UTC-5).
NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
TIMEZONE = "America/New_York"
MIA = {"id": "Mia", "name": "Mia", "pronoun": "she"}
LEO = {"id": "Leo", "name": "Leo", "pronoun": "he"}
MARKDOWN = set("*_`#[]<>|~")  # none of these belong in a spoken reply


def make_tracker(text: str, intent: str, entities: Sequence[dict[str, Any]] = (),
                 slots: dict[str, Any] | None = None, sender: str = "mum") -> Tracker:
    """A tracker as Rasa sends it to the action server. Each entity is a dict like Rasa's
    (`entity`, `value`, optional `role`); `start`/`end` are filled in from where the
    entity's `literal` words (else its value) occur in `text`, when they occur."""
    found = []
    position = 0
    for given in entities:
        entity = {"extractor": "DIETClassifier", "confidence_entity": 0.99, **given}
        words = str(entity.pop("literal", entity.get("value", "")))
        at = text.lower().find(words.lower(), position) if words else -1
        if "start" not in entity and at >= 0:
            entity["start"], entity["end"] = at, at + len(words)
            position = at + len(words)
        found.append(entity)
    return Tracker.from_dict({
        "sender_id": sender,
        "slots": {"child": None, "game_search": None, "game_offered": None, "game_current": None,
                  **(slots or {})},
        "latest_message": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.98},
            "intent_ranking": [{"name": intent, "confidence": 0.98}],
            "entities": found,
        },
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    })


def run_action(action: Action, tracker: Tracker) -> tuple[list[str], list[dict[str, Any]]]:
    """Run `action` as the executor does; returns what it said and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return [str(m.get("text") or "") for m in dispatcher.messages], list(events or [])


def say(action: Action, tracker: Tracker) -> str:
    """Everything `action` said, as one string."""
    texts, _events = run_action(action, tracker)
    return " ".join(texts)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def make_backend(redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path,
                 clock: Clock) -> Iterator[Callable[..., Household]]:
    """Backends over the tests' Redis (flushed per test) with the test's clock; each one is
    the process's backend until the test ends (the last one made wins)."""
    stack = contextlib.ExitStack()

    def make(children: Sequence[dict[str, Any]] = (MIA,), timezone: str = TIMEZONE) -> Household:
        settings = load_settings(
            redis={"url": redis_server.url}, data_dir=tmp_path / "data", environment="test",
            family={"children": list(children), "timezone": timezone},
        )
        return stack.enter_context(use_household(Household(settings, client, clock=clock)))

    with stack:
        yield make


@pytest.fixture
def backend(make_backend: Callable[..., Household]) -> Household:
    """The backend the actions use: one child, Mia (she), in New York time, at NOW."""
    return make_backend()
