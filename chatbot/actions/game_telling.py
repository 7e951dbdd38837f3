"""A game the family tells Cradle, in one breath or over a short dialogue, read back
before it is saved.

"Add a game" starts `game_form`, which asks for what is missing: "What's it called?"
(`game_title`), "How do you play it?" (`game_how`); the age and place are taken when said
(`game_age`, `game_places`) and never asked for. The one-breath telling ("add a game
called sock puppets: put a sock on your hand and make it talk") fills the form at once.
Then `action_game_read_back` reads the game back and keeps it in `game_pending`: yes saves
it (`action_game_save`), no lets it go (`action_game_discard`). "Never mind" leaves the
form at any question. A game the family already has is never read back as new: Cradle
says it knows it and makes it the current game.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions.base import CradleAction, message_text
from chatbot.actions.games import PLACE_WORDS, age_span, age_words, lower_first
from chatbot.actions.household import Household
from chatbot.actions.phrases import listing
from services.games import (
    DuplicateGame,
    Game,
    GameError,
    Place,
    Told,
    read_how,
    read_title,
    read_told,
    told_game,
)

log = logging.getLogger(__name__)

TOLD_SLOTS = ("game_title", "game_how", "game_age", "game_places", "game_pending")
CANCEL = re.compile(
    r"^\W*(?:(?:oh|um|uh|no|nah|actually|ok|okay|sorry)\W+)*(?:never ?mind|cancel(?: that| it)?|"
    r"forget (?:it|about it|that)|scrap (?:it|that)|stop(?: it)?|leave it|don'?t bother|"
    r"(?:i'?ve )?changed my mind|no|nope|nah)(?:\W+(?:thanks|thank you|then|please))?\W*$",
    re.IGNORECASE,
)
LET_GO = "Okay, I won't save it."


def cancelled(tracker: Tracker) -> bool:
    """ "Never mind", "cancel", or a short no, said instead of an answer."""
    text = message_text(tracker)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return bool(CANCEL.match(text)) or (intent == "deny" and len(text.split()) <= 6)


def _forget() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in TOLD_SLOTS]


def _places(slot: Any) -> list[str]:
    return [str(p) for p in slot or [] if str(p) in set(Place)]


def _said_extras(told: Told, tracker: Tracker) -> list[dict[str, Any]]:
    """The age and places a message said, over those said before."""
    events: list[dict[str, Any]] = []
    if told.age_months:
        events.append(SlotSet("game_age", list(told.age_months)))
    if told.places:
        before = _places(tracker.get_slot("game_places"))
        events.append(SlotSet("game_places", list(dict.fromkeys([*before, *told.places]))))
    return events


class ValidateGameForm(CradleAction):
    """Reads each answer of `game_form` (any intent: a title is rarely an English sentence)."""

    action_name = "validate_game_form"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        if cancelled(tracker):  # the form ends with nothing told: the read-back lets it go
            return [*_forget(), SlotSet("requested_slot", None)]
        text, asked = message_text(tracker), tracker.get_slot("requested_slot")
        if asked == "game_title":
            title, places, age = read_title(text)
            return [SlotSet("game_title", title), *_said_extras(Told(age_months=age, places=places), tracker)]
        if asked == "game_how":
            told = read_how(text)
            return [SlotSet("game_how", told.how), *_said_extras(told, tracker)]
        told = read_told(text)  # the telling that started the form: everything it says, afresh
        return [SlotSet("game_title", told.title), SlotSet("game_how", told.how),
                SlotSet("game_age", list(told.age_months) if told.age_months else None),
                SlotSet("game_places", [str(p) for p in told.places] or None), SlotSet("game_pending", None)]


def told_from_slots(tracker: Tracker) -> Told | None:
    title, how = tracker.get_slot("game_title"), tracker.get_slot("game_how")
    if not isinstance(title, str) or not isinstance(how, str) or not title.strip() or not how.strip():
        return None
    age = tracker.get_slot("game_age")
    ages = (int(age[0]), int(age[1])) if isinstance(age, list) and len(age) == 2 else None
    return Told(title=title, how=how, age_months=ages,
                places=tuple(Place(p) for p in _places(tracker.get_slot("game_places"))))


def ages_said(low: int, high: int) -> str:
    """After "for": "any age", "6 months and up", "1 to 2 year olds" reads as a span."""
    if low == 0 and high == 48:
        return "any age"
    if high == 48:
        said = f"{low} months" if low < 24 else f"{age_words(low)}s"
        return f"{said} and up"
    return age_span(low, high)


def read_back(game: Game, told: Told) -> str:
    how = lower_first(told.how or game.steps[0]).rstrip(".") + "."
    where = listing([PLACE_WORDS[p] for p in told.places], "or") if told.places else "anywhere"
    return f"{game.title}: {how} For {ages_said(*game.age_months)}, {where}. Shall I save it?"


def already_known(game: Game) -> tuple[str, list[dict[str, Any]]]:
    first = lower_first(game.steps[0]).rstrip(".") + "."
    return (f"I already know {game.title}: {first} Say \"read it\" to hear it all.",
            [*_forget(), SlotSet("game_current", game.id)])


class ActionGameReadBack(CradleAction):
    """After the form: the game read back for a yes or a no, or, when it is one the family
    already has, that one; nothing told (the form was left) is let go."""

    action_name = "action_game_read_back"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        told = told_from_slots(tracker)
        if told is None:
            dispatcher.utter_message(text=LET_GO)
            return _forget()
        try:
            game = told_game(told, added_by=tracker.sender_id)
        except ValueError:  # GameError and pydantic's errors are ValueErrors
            log.warning("could not make a game of %r", told, exc_info=True)
            dispatcher.utter_message(text="I couldn't make a game of that. Tell me again, like: add a game "
                                          "called sock puppets, put a sock on your hand and make it talk.")
            return _forget()
        known = cradle.games.duplicate_of(game)
        if known is not None:
            text, events = already_known(known)
            dispatcher.utter_message(text=text)
            return events
        dispatcher.utter_message(text=read_back(game, told))
        return [SlotSet("game_pending", game.model_dump(mode="json"))]


class ActionGameSave(CradleAction):
    """ "Yes" to a game read back: saved under the name of who told it."""

    action_name = "action_game_save"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        pending = tracker.get_slot("game_pending")
        if not isinstance(pending, dict):
            dispatcher.utter_message(text="There's no game waiting to be saved. "
                                          "To teach me one, say: add a game.")
            return []
        try:
            game = cradle.games.add_game(Game.model_validate(pending))
        except DuplicateGame as exc:  # saved by someone else since it was read back
            text, events = already_known(exc.existing)
            dispatcher.utter_message(text=text)
            return events
        except (GameError, ValueError):
            log.warning("a damaged game_pending slot: %r", pending, exc_info=True)
            dispatcher.utter_message(text="Sorry, I lost that game. Tell me again: add a game.")
            return _forget()
        dispatcher.utter_message(text=f'Saved {game.title}. Say "read it" to hear it back.')
        return [*_forget(), SlotSet("game_current", game.id)]


class ActionGameDiscard(CradleAction):
    """ "No" to a game read back: let go, nothing saved."""

    action_name = "action_game_discard"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        waiting = isinstance(tracker.get_slot("game_pending"), dict)
        dispatcher.utter_message(text=LET_GO if waiting else "Okay.")
        return _forget()
