"""What every Cradle action shares: one spoken answer, and never a crash.

An action subclasses `CradleAction`, names itself in `action_name` and writes `answer`.
`answer` runs in a worker thread (Redis and MiniLM calls block; the action server's
event loop must not). Whatever goes wrong inside (Redis down, a damaged record, a bug)
is logged and the person hears one short sentence instead of silence or a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import redis
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from chatbot.actions.household import Household, UnknownChild, household
from chatbot.actions.periods import UnknownPeriod

log = logging.getLogger("chatbot.actions")

UNREACHABLE = "I can't reach Cradle's memory right now. Try again in a minute."
BROKEN = "Sorry, something went wrong on my side. Try again in a minute."


class CradleAction(Action, ABC):
    """Abstract, so rasa-sdk's executor (which registers every Action subclass) skips it."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.safely, dispatcher, tracker)

    def safely(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """`answer`, with every failure turned into a short sentence (and a log entry)."""
        try:
            return self.answer(dispatcher, tracker, household())
        except (UnknownChild, UnknownPeriod) as exc:
            dispatcher.utter_message(text=str(exc))
        except redis.RedisError:
            log.exception("%s: Redis failed", self.action_name)
            dispatcher.utter_message(text=UNREACHABLE)
        except Exception:
            log.exception("%s failed", self.action_name)
            dispatcher.utter_message(text=BROKEN)
        return []

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        """Say the answer through `dispatcher`; return the events (slots) to set."""


def entity(tracker: Tracker, name: str) -> str | None:
    """The first `name` entity of the latest message, as text (None when absent or empty)."""
    for value in tracker.get_latest_entity_values(name):
        if isinstance(value, str | int | float) and str(value).strip():
            return str(value).strip()
    return None


def message_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def named_child(tracker: Tracker) -> str | None:
    """The child the message names, else the one the conversation is about (the slot)."""
    slot = tracker.get_slot("child")
    return entity(tracker, "child") or (str(slot) if isinstance(slot, str) and slot.strip() else None)
