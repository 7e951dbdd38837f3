"""A follow-up question: "and yesterday?", "what about last night?", "and Leo?".

It asks the conversation's last question again (the `topic` slot, left by base.py's
`asked_about`) with what the follow-up changes: its period, its child, or both. What it
does not say carries over from that question: "how did Mia sleep last night?" then "and
Leo?" is Leo's last night. With no question before it, a follow-up that names a period is
a summary of that period.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions import alerts, child
from chatbot.actions.base import TOPICS, CradleAction, entity
from chatbot.actions.household import Household

NO_TOPIC = "What would you like to know? Ask me how the day went, about sleep, feeds or alerts."


def _questions() -> dict[str, CradleAction]:
    """The actions a follow-up may repeat, by name."""
    found: dict[str, CradleAction] = {}
    for module in (child, alerts):
        for value in vars(module).values():
            ours = isinstance(value, type) and value.__module__ == module.__name__
            if ours and issubclass(value, CradleAction) and getattr(value, "action_name", None) in TOPICS:
                found[value.action_name] = value()
    return found


QUESTIONS = _questions()


def with_period(tracker: Tracker, words: str) -> Tracker:
    """`tracker` as if its latest message had also said `words` as its period."""
    carried = copy.deepcopy(tracker)
    message = dict(carried.latest_message or {})
    message["entities"] = [*(message.get("entities") or []), {"entity": "period", "value": words}]
    carried.latest_message = message
    return carried


class ActionFollowUp(CradleAction):
    action_name = "action_follow_up"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        topic = tracker.get_slot("topic")
        question = QUESTIONS.get(topic) if isinstance(topic, str) else None
        said_period = entity(tracker, "period")
        if question is None:
            if said_period is None:
                dispatcher.utter_message(text=NO_TOPIC)
                return []
            question = QUESTIONS["action_day_summary"]
        carried = tracker.get_slot("period")
        if said_period is None and isinstance(carried, str) and carried:
            tracker = with_period(tracker, carried)
        return question.answer(dispatcher, tracker, cradle)
