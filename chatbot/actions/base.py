"""What every Cradle action shares: one spoken answer, and never a crash.

An action subclasses `CradleAction`, names itself in `action_name` and writes `answer`.
`answer` runs in a worker thread (Redis and MiniLM calls block; the action server's
event loop must not). Whatever goes wrong inside (Redis down, a damaged record, a bug)
is logged and the person hears one short sentence instead of silence or a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import redis
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from chatbot.actions.household import Household, UnknownChild, household
from chatbot.actions.periods import Period, UnknownPeriod, parse_period, period_in
from services.family import Child

log = logging.getLogger("chatbot.actions")

# The questions a follow-up ("and yesterday?", "what about Leo?") asks again.
TOPICS = ("action_mood_now", "action_day_summary", "action_sleep", "action_wake_time", "action_naps",
          "action_last_feed", "action_alerts")

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
        except UnknownChild as exc:
            # Answered once, then forgotten: the next question is about the family's child.
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("child", None)]
        except UnknownPeriod as exc:
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


def asked_child(tracker: Tracker, cradle: Household) -> Child:
    """The child the latest message is about: a name the entity extractor found (UnknownChild
    for one the family does not have), else a family name said word for word (the extractor
    misses a lower-case "mia" from speech), else the conversation's child, else the first."""
    named = entity(tracker, "child")
    if named:
        return cradle.child(named)
    slot = tracker.get_slot("child")  # only ever a child the family has: an unknown name is never kept
    return cradle.family.mentioned(message_text(tracker)) or cradle.child(
        str(slot) if isinstance(slot, str) and slot.strip() else None)


# A stretch named by what the asker was doing ("while I was in the shower", "when we were
# out"): no clock to read, so the question's own default (today, or now) answers it.
AWAY = re.compile(r"^(?:while|when|whilst) (?:i|we|you) (?:was|were|had|went)\b", re.IGNORECASE)


def asked_period(tracker: Tracker, cradle: Household) -> Period | None:
    """The period the latest message asks about: its `period` entity, else one the words
    hold that the entity extractor missed ("since lunch", "at 3 am"); None when it names
    none. Raises UnknownPeriod for an entity that is no period Cradle can place."""
    now, family, said = cradle.now(), cradle.settings.family, message_text(tracker)
    words = entity(tracker, "period")
    if words is None or AWAY.match(words.strip()):  # "while I was in the shower": the default
        return period_in(said, now, family)
    try:
        return parse_period(words, now, family)
    except UnknownPeriod:
        found = period_in(said, now, family)
        if found is None:
            raise
        return found


def asked_about(action: str, child: str, period: Period | None) -> list[dict[str, Any]]:
    """The slots a question leaves: the child it was about and, for a question a follow-up
    may repeat, the question and its period (None: the question's own default)."""
    events = [SlotSet("child", child)]
    if action in TOPICS:
        events += [SlotSet("topic", action), SlotSet("period", period.words if period else None)]
    return events
