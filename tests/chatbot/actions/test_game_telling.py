"""Telling Cradle a game (game_telling.py), as the form and the rules run the actions: the
questions fill what is missing, the game is read back and saved only on a yes, "never
mind" leaves at any question, and a game the family has is never saved twice."""

from __future__ import annotations

import pytest

from chatbot.actions.game_telling import (
    LET_GO,
    ActionGameDiscard,
    ActionGameReadBack,
    ActionGameSave,
    ValidateGameForm,
    ages_said,
)
from chatbot.actions.household import Household
from services.games.model import Place
from tests.chatbot.actions.conftest import make_tracker, run_action
from tests.chatbot.actions.test_game_actions import Conversation, catalogue, family

__all__ = ["catalogue", "family"]  # fixtures used here

SOCK_PUPPETS = "Sock puppets: put a sock on your hand and make it talk."


def told_over_questions(chat: Conversation) -> None:
    chat.tell("add a game", "save_game")
    assert chat.slots["game_title"] is None and chat.slots["game_how"] is None  # both asked for
    chat.tell("it's called sock puppets", "save_game", asked="game_title")
    chat.tell("you put a sock on your hand and make it talk, for babies from 6 months", "inform",
              asked="game_how")


def test_the_questions_then_the_read_back_then_yes_saves_it(family: Household) -> None:
    chat = Conversation()
    told_over_questions(chat)
    assert (chat.slots["game_title"], chat.slots["game_how"], chat.slots["game_age"]) == (
        "Sock puppets", "Put a sock on your hand and make it talk", [6, 48])
    count = len(family.games.all())
    assert chat.ask(ActionGameReadBack(), "", "inform") == (
        f"{SOCK_PUPPETS} For 6 months and up, anywhere. Shall I save it?")
    assert len(family.games.all()) == count  # nothing saved before the yes
    saved = chat.ask(ActionGameSave(), "yes please", "affirm")
    assert saved == 'Saved Sock puppets. Say "read it" to hear it back.'
    game = chat.current(family)
    assert (game.id, game.added_by, game.age_months) == ("sock-puppets", "mum", (6, 48))
    assert set(game.places) == {Place.indoor, Place.outdoor}
    assert game.steps[0] == "Put a sock on your hand and make it talk."
    assert all(chat.slots[slot] is None for slot in ("game_title", "game_how", "game_age", "game_pending"))


def test_said_in_one_breath_it_is_read_back_at_once(family: Household) -> None:
    chat = Conversation()
    chat.tell("Add a game called sock puppets: put a sock on your hand and make it talk in the car",
              "save_game")
    assert chat.ask(ActionGameReadBack(), "", "save_game") == (
        f"{SOCK_PUPPETS} For any age, in the car. Shall I save it?")
    chat.ask(ActionGameSave(), "yes", "affirm")
    assert chat.current(family).places == [Place.car]


def test_the_place_said_in_answer_to_a_question_is_taken(family: Household) -> None:
    chat = Conversation()
    chat.tell("add a game called bubble bath", "save_game")
    chat.tell("we blow bubbles and she pops them, in the bath, for 1 to 2 year olds", "inform",
              asked="game_how")
    assert chat.ask(ActionGameReadBack(), "", "inform") == (
        "Bubble bath: blow bubbles and she pops them. For 12 months to 2 years, in the bath. "
        "Shall I save it?")


@pytest.mark.parametrize(("asked", "said"), [(None, "never mind"), ("game_title", "cancel"),
                                             ("game_how", "oh forget it"), ("game_how", "no")])
def test_never_mind_at_any_question_saves_nothing(family: Household, asked: str | None, said: str) -> None:
    chat = Conversation()
    chat.tell("add a game called sock puppets", "save_game")
    count = len(family.games.all())
    slots = {**chat.slots, "requested_slot": asked}
    _texts, events = run_action(ValidateGameForm(), make_tracker(said, "deny", slots=slots))
    assert {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None} in events
    for event in events:
        chat.slots[event["name"]] = event["value"]
    assert chat.slots["game_title"] is None
    assert chat.ask(ActionGameReadBack(), "", "deny") == LET_GO
    assert len(family.games.all()) == count


def test_no_to_the_read_back_saves_nothing(family: Household) -> None:
    chat = Conversation()
    told_over_questions(chat)
    chat.ask(ActionGameReadBack(), "", "inform")
    count = len(family.games.all())
    assert chat.ask(ActionGameDiscard(), "no don't", "deny") == LET_GO
    assert chat.slots["game_pending"] is None and len(family.games.all()) == count
    assert chat.ask(ActionGameSave(), "yes", "affirm").startswith("There's no game waiting to be saved.")


@pytest.mark.parametrize("told", ["a new game, peek a boo, you hide your face and say boo",
                                  "add a game called the peekaboo game: hide behind your hands and pop out"])
def test_a_game_the_family_has_is_not_saved_twice(family: Household, told: str) -> None:
    chat = Conversation()
    chat.tell(told, "save_game")
    reply = chat.ask(ActionGameReadBack(), "", "save_game")
    peekaboo = family.games.get("peekaboo")
    first = peekaboo.steps[0][0].lower() + peekaboo.steps[0][1:].rstrip(".")
    assert reply == f'I already know Peekaboo: {first}. Say "read it" to hear it all.'
    assert chat.slots["game_current"] == "peekaboo" and chat.slots["game_pending"] is None


def test_a_game_saved_by_someone_else_meanwhile_is_not_saved_twice(family: Household) -> None:
    mum, dad = Conversation(), Conversation(sender="dad")
    for chat in (mum, dad):
        chat.tell("add a game called sock puppets: put a sock on your hand and make it talk", "save_game")
        chat.ask(ActionGameReadBack(), "", "save_game")
    mum.ask(ActionGameSave(), "yes", "affirm")
    assert dad.ask(ActionGameSave(), "yes", "affirm").startswith("I already know Sock puppets: put a sock")
    assert dad.slots["game_current"] == "sock-puppets" == mum.slots["game_current"]
    assert family.games.get("sock-puppets").added_by == "mum"


@pytest.mark.parametrize(("low", "high", "said"), [(0, 48, "any age"), (6, 48, "6 months and up"),
                                                   (30, 48, "2 and a half years and up"),
                                                   (12, 35, "12 months to 2 years")])
def test_ages_read_back(low: int, high: int, said: str) -> None:
    assert ages_said(low, high) == said
