"""The games actions against the real Redis and the real MiniLM, with the shipped catalogue:
filters always hold, "another one" never repeats, a game saved by voice is found again by
voice, ratings change the vote, and "read it" reads the steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from rasa_sdk import Tracker
from redis.backoff import NoBackoff
from redis.retry import Retry

from chatbot.actions.base import UNREACHABLE
from chatbot.actions.game_telling import ActionGameReadBack, ActionGameSave, ValidateGameForm
from chatbot.actions.games import (
    ActionGameNext,
    ActionGameRate,
    ActionGameRead,
    ActionGameSearch,
    age_span,
    find_game,
    months_between,
)
from chatbot.actions.household import Household, use_household
from services.games.embedder import Embedder, Vectors
from services.games.model import Energy, Game, Place, load_catalogue
from services.games.store import NET
from tests.chatbot.actions.conftest import MARKDOWN, MIA, NOW, make_tracker, run_action

MAYA_BORN = "2026-01-05"  # ten months old at NOW


@pytest.fixture(scope="session")
def catalogue(embedder: Embedder) -> tuple[list[Game], Vectors]:
    """The shipped games and their vectors, encoded once for the whole session."""
    games = load_catalogue()
    return games, embedder.encode([g.text() for g in games])


@pytest.fixture
def family(make_backend: Callable[..., Household], catalogue: tuple[list[Game], Vectors]) -> Household:
    """Mia, ten months old, and the catalogue in Redis."""
    backend = make_backend(children=[{**MIA, "born": MAYA_BORN}])
    backend.games.save(*catalogue)
    return backend


class Conversation:
    """Slots carried from one action to the next, as Rasa carries them."""

    def __init__(self, sender: str = "mum") -> None:
        self.slots: dict[str, Any] = {}
        self.sender = sender

    def tracker(self, text: str, intent: str, *entities: tuple[str, str]) -> Tracker:
        return make_tracker(text, intent, [{"entity": e, "value": v} for e, v in entities],
                            slots=dict(self.slots), sender=self.sender)

    def ask(self, action: Any, text: str, intent: str, *entities: tuple[str, str]) -> str:
        texts, events = run_action(action, self.tracker(text, intent, *entities))
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        reply = " ".join(texts)
        assert reply and not set(reply) & MARKDOWN, reply
        return reply

    def tell(self, text: str, intent: str, asked: str | None = None) -> None:
        """One answer to game_form, read by its validate action as Rasa's form calls it."""
        texts, events = run_action(ValidateGameForm(), make_tracker(
            text, intent, slots={**self.slots, "requested_slot": asked}, sender=self.sender))
        assert texts == []
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    def current(self, family: Household) -> Game:
        return family.games.get(self.slots["game_current"])


def fits(game: Game, age: int, place: Place | None = None) -> bool:
    low, high = game.age_months
    return low <= age <= high and (place is None or place in game.places)


def test_search_offers_a_fitting_game_and_sets_the_slots(family: Household) -> None:
    chat = Conversation()
    reply = chat.ask(ActionGameSearch(), "a calm game in the car for a 2 year old", "request_game",
                     ("energy", "calm"), ("place", "car"), ("age", "2 year old"))
    game = chat.current(family)
    assert fits(game, 24, Place.car) and game.energy == "calm"
    first_step = game.steps[0].rstrip(".")
    assert reply == (f"Try {game.title}. {first_step}. It takes about {game.minutes} minutes. "
                     'Say "read it" for the steps, or "another one".')
    assert chat.slots["game_search"] == {
        "query": "a calm game in the car for a 2 year old", "age_months": 24, "place": "car",
        "energy": "calm", "no_toys": False, "skill": None, "material": None}
    assert chat.slots["game_offered"] == [game.id]


@pytest.mark.parametrize("age", ["six months", "ten month old", "18 mo", "two and a half", "a 3 year old"])
def test_never_a_bath_game_in_the_car(family: Household, age: str) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), f"something splashy with water in the car for a {age}", "request_game",
             ("place", "car"), ("age", age))
    months = {"six months": 6, "ten month old": 10, "18 mo": 18, "two and a half": 30,
              "a 3 year old": 36}[age]
    for _ in range(6):
        game = chat.current(family)
        assert fits(game, months, Place.car), game
        chat.ask(ActionGameNext(), "another one", "another_game")


@pytest.mark.parametrize(("text", "place", "energy", "no_toys"), [
    ("um we're stuck in the car what can we play with a one year old", Place.car, None, False),
    ("something quiet for bath time", Place.bath, Energy.calm, False),
    ("a game to burn off some energy outside no toys", Place.outdoor, Energy.active, True),
])
def test_filters_missed_by_the_entity_extractor_are_read_from_the_words(
    family: Household, text: str, place: Place, energy: Energy | None, no_toys: bool
) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), text, "request_game")  # no entities at all
    search = chat.slots["game_search"]
    assert (search["place"], search["energy"], search["no_toys"]) == (
        place.value, energy.value if energy else None, no_toys)
    for _ in range(4):
        game = chat.current(family)
        assert place in game.places and (energy is None or game.energy == energy)
        assert not (no_toys and game.materials)
        chat.ask(ActionGameNext(), "another one", "another_game")


def test_no_age_said_means_the_childs_age(family: Household) -> None:
    assert months_between(family.children[0].born, NOW.date()) == 10  # type: ignore[arg-type]
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game to play outside", "request_game", ("place", "outdoor"))
    assert chat.slots["game_search"]["age_months"] == 10
    for _ in range(5):
        assert fits(chat.current(family), 10, Place.outdoor)
        chat.ask(ActionGameNext(), "another", "another_game")


def test_another_one_never_repeats_until_none_is_left(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game at bedtime for a baby", "request_game",
             ("place", "bedtime"), ("age", "3 months"))
    fitting = [g for g in family.games.all() if fits(g, 3, Place.bedtime)]
    offered = [chat.slots["game_current"]]
    for _ in range(len(fitting) - 1):
        chat.ask(ActionGameNext(), "another one", "another_game")
        offered.append(chat.slots["game_current"])
    assert sorted(offered) == sorted(g.id for g in fitting)
    assert chat.slots["game_offered"] == offered
    last = chat.ask(ActionGameNext(), "another one", "another_game")
    assert last.startswith("That's every game I know that fits.")


def test_another_one_with_no_search_before_searches_from_the_words(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameNext(), "another bath game", "another_game", ("place", "bath"))
    assert fits(chat.current(family), 10, Place.bath)
    assert chat.slots["game_search"]["place"] == "bath"


def test_another_one_may_change_a_filter(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game for a two year old", "request_game", ("age", "two year old"))
    chat.ask(ActionGameNext(), "another one but calm", "another_game", ("energy", "calm"))
    game = chat.current(family)
    assert fits(game, 24) and game.energy == "calm"
    assert len(set(chat.slots["game_offered"])) == 2


def test_nothing_fits_says_what_to_relax(family: Household) -> None:
    chat = Conversation()
    reply = chat.ask(ActionGameSearch(), "an active game in the bath", "request_game",
                     ("energy", "active"), ("place", "bath"))
    assert reply == "I don't know a game that fits all of that. I know some if it needn't be active."
    assert "game_current" not in chat.slots


def test_nothing_fits_names_the_material(family: Household) -> None:
    reply = Conversation().ask(ActionGameSearch(), "an active game in the car with balls", "request_game",
                               ("energy", "active"), ("place", "car"), ("material", "balls"))
    assert reply == "I don't know a game that fits all of that. I know some if it needn't be with a ball."


def turn(name: str, text: str = "") -> list[dict[str, Any]]:
    """Events of one turn as Rasa keeps them: the user's words, then Cradle's action."""
    return [{"event": "user", "text": text}, {"event": "action", "name": "action_extract_slots"},
            {"event": "action", "name": name}, {"event": "action", "name": "action_listen"}]


def test_a_search_refined_twice_keeps_what_was_not_said_then_a_new_topic_resets_it(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a quiet game for a ten-month-old", "request_game",
             ("energy", "calm"), ("age", "ten-month-old"))
    assert (chat.slots["game_search"]["age_months"], chat.slots["game_search"]["energy"]) == (10, "calm")
    chat.ask(ActionGameNext(), "something livelier", "another_game")  # no entity: the words say it
    search = chat.slots["game_search"]
    assert (search["age_months"], search["energy"], search["place"]) == (10, "active", None)
    assert chat.current(family).energy == Energy.active and fits(chat.current(family), 10)
    chat.ask(ActionGameNext(), "something quieter", "another_game")
    chat.ask(ActionGameNext(), "what about for the car", "another_game")
    search = chat.slots["game_search"]
    assert (search["age_months"], search["energy"], search["place"]) == (10, "calm", "car")
    game = chat.current(family)
    assert fits(game, 10, Place.car) and game.energy == Energy.calm
    assert len(set(chat.slots["game_offered"])) == 4  # never one offered before

    events = [*turn("action_game_search"), *turn("action_game_next"), *turn("action_mood_now", "how is she"),
              {"event": "user", "text": "another one"}]
    tracker = chat.tracker("another one", "another_game")
    tracker.events = events
    _texts, slots = run_action(ActionGameNext(), tracker)
    fresh = next(e["value"] for e in slots if e["name"] == "game_search")
    assert (fresh["age_months"], fresh["energy"], fresh["place"]) == (10, None, None)  # the child's age only
    assert next(e["value"] for e in slots if e["name"] == "game_offered") != chat.slots["game_offered"]


@pytest.mark.parametrize(("said", "field", "value"), [
    ("something calmer", "energy", "calm"), ("a livelier one", "energy", "active"),
    ("one for the car instead", "place", "car"), ("what about outside", "place", "outdoor"),
    ("something less active", "energy", "calm"),
])
def test_refinements_read_from_the_words(family: Household, said: str, field: str, value: str) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game for a two year old in the bath", "request_game",
             ("age", "two year old"), ("place", "bath"))
    chat.ask(ActionGameNext(), said, "another_game")
    search = chat.slots["game_search"]
    assert search[field] == value and search["age_months"] == 24
    kept = {"energy": None, "place": "bath"}
    kept.pop(field)
    assert all(search[k] == v for k, v in kept.items())


@pytest.mark.parametrize(("low", "high", "said"), [
    (0, 48, "any age up to 4 years"), (3, 18, "3 to 18 months"), (8, 30, "8 months to 2 and a half years"),
    (24, 36, "2 years to 3 years"), (0, 12, "any age up to 12 months"),
])
def test_age_spans(low: int, high: int, said: str) -> None:
    assert age_span(low, high) == said


def test_no_toys(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game with no toys", "request_game", ("material", "none"))
    for _ in range(4):
        assert chat.current(family).materials == []
        chat.ask(ActionGameNext(), "another one", "another_game")


def test_bad_entities_are_ignored(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "a game on the moon for a hundred year old", "request_game",
             ("place", "the moon"), ("age", "a hundred years"), ("skill", "juggling"), ("energy", "purple"))
    assert chat.slots["game_search"]["age_months"] == 10  # the child's own age
    assert chat.slots["game_search"]["place"] is None


def test_a_game_saved_by_voice_is_found_again_by_voice(family: Household) -> None:
    dad = Conversation(sender="dad")
    dad.tell("um save a game where you blow raspberries on the baby's tummy "
             "and sing the dinosaur song in the garden", "save_game")
    assert dad.slots["game_title"] is None  # no title said: the form asks for one
    dad.tell("it's called dinosaur raspberries", "save_game", asked="game_title")
    reply = dad.ask(ActionGameReadBack(), "", "save_game")
    assert reply == ("Dinosaur raspberries: blow raspberries on the baby's tummy and sing the dinosaur "
                     "song. For any age up to 2 years, outdoors. Shall I save it?")
    saved_reply = dad.ask(ActionGameSave(), "yes", "affirm")
    assert saved_reply == 'Saved Dinosaur raspberries. Say "read it" to hear it back.'
    saved = dad.current(family)
    assert saved.added_by == "dad"
    mum = Conversation()
    heard = mum.ask(ActionGameRead(), "read me the dinosaur raspberries one", "read_game",
                    ("game_name", "dinosaur raspberries"))
    assert mum.slots["game_current"] == saved.id and heard.startswith(saved.title)
    mum.ask(ActionGameSearch(), "the raspberry blowing game with the dinosaur song", "request_game")
    assert mum.slots["game_current"] == saved.id


def test_rating_changes_the_vote(family: Household) -> None:
    mum = Conversation()
    mum.ask(ActionGameSearch(), "peekaboo", "request_game")
    game = mum.slots["game_current"]
    assert mum.ask(ActionGameRate(), "she loved it", "rate_game", ("rating", "liked")) == (
        f"Noted, {mum.current(family).title} was a hit. I'll suggest it more often.")
    assert family.client.hget(NET, game) == "1"
    mum.ask(ActionGameRate(), "actually it was boring", "rate_game")  # no entity: the words say it
    assert family.client.hget(NET, game) == "-1"  # changed, not added
    dad = Conversation(sender="dad")
    dad.ask(ActionGameRate(), "he loved peekaboo", "rate_game",
            ("game_name", "peekaboo"), ("rating", "liked"))
    assert family.client.hget(NET, "peekaboo") == ("0" if game == "peekaboo" else "1")


def test_rating_needs_a_game_and_a_verdict(family: Household) -> None:
    chat = Conversation()
    assert chat.ask(ActionGameRate(), "she loved it", "rate_game") == (
        "Which game? Say its name, or ask me for a game first.")
    assert chat.ask(ActionGameRate(), "about peekaboo", "rate_game", ("game_name", "peekaboo")) == (
        'Did it go down well? Say "loved it" or "boring".')


def test_read_it_reads_the_steps_and_the_safety_note(family: Household) -> None:
    chat = Conversation()
    chat.ask(ActionGameSearch(), "tummy time", "request_game", ("age", "3 months"))
    game = chat.current(family)
    reply = chat.ask(ActionGameRead(), "read it", "read_game")
    assert reply.startswith(f"{game.title}, for ")
    assert "First, " in reply and "Finally, " in reply and "To keep it safe: " in reply
    for step in game.steps:
        assert step.rstrip(".")[1:] in reply


@pytest.mark.parametrize(("said", "title"), [
    ("peekaboo", "Peekaboo"), ("peek a boo", "Peekaboo"), ("the tummy time mirror", "Tummy time mirror"),
    ("cushion mountin", "Cushion mountain"), ("wind the bobbin", "Wind the bobbin up"),
    ("the one where you crawl through a cardboard box", "Tunnel crawl"),
])
def test_games_are_found_by_name(family: Household, said: str, title: str) -> None:
    found = find_game(family.games, said)
    assert found is not None and found.title == title


def test_unknown_games(family: Household) -> None:
    chat = Conversation()
    assert chat.ask(ActionGameRead(), "read it", "read_game") == (
        "Which game? Say its name, or ask me for a game first.")
    reply = chat.ask(ActionGameRead(), "read the quarterly tax return", "read_game",
                     ("game_name", "quarterly tax return"))
    assert reply == "I don't know a game called quarterly tax return. Ask me for a game to find one."
    chat.slots["game_current"] = "a-game-since-deleted"
    assert chat.ask(ActionGameRead(), "read it", "read_game") == (
        "I can't find that game any more. Ask me for another one.")


PENDING = {"title": "Sock puppets", "age_months": [0, 48], "places": ["indoor"], "energy": "calm",
           "minutes": 5, "skills": ["social"], "steps": ["Put a sock on.", "Make it talk."],
           "safety": "Stay close.", "added_by": "mum"}


@pytest.mark.parametrize("action", [ActionGameSearch(), ActionGameNext(), ActionGameSave(), ActionGameRate(),
                                    ActionGameRead(), ActionGameReadBack()])
def test_redis_down_is_one_clear_sentence(family: Household, action: Any) -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))  # nothing listens there
    with use_household(Household(family.settings, gone, clock=family.clock)):
        tracker = make_tracker("she loved it", "rate_game", [{"entity": "rating", "value": "liked"}],
                               slots={"game_current": "peekaboo", "game_title": "Sock puppets",
                                      "game_how": "Put a sock on", "game_pending": PENDING})
        texts, events = run_action(action, tracker)
    assert texts == [UNREACHABLE] and events == []
