"""Games told in free text: one-breath tellings read back to their title, steps, age and
place, in every form a family uses; and no text makes the parser fail but with a
ValueError that says what is missing."""

from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.games.model import Place
from services.games.parse import (
    ANYWHERE,
    CLOSING_STEP,
    PLACES,
    Told,
    game_from_text,
    read_how,
    read_title,
    read_told,
)

# Words a title or a step may not be made of in the generated tellings: the words the
# forms themselves are made of (a title "where you" is not a title).
RESERVED = {
    "you", "your", "we", "where", "when", "which", "that", "it", "its", "called", "named", "titled", "call",
    "for", "from", "in", "at", "on", "the", "a", "an", "and", "to", "or", "of", "months", "month", "mo",
    "mos", "year", "years", "yrs", "olds", "old", "car", "bath", "tub", "outdoors", "outside", "indoors",
    "inside",
    "game", "new", "add", "save", "here", "then", "babies", "toddlers", "up", "plus", "over", "aged", "ages",
    "um", "uh", "er", "erm", "so", "ok", "okay", "like", "right", "oh", "hey", "hi", "please", "bedtime",
    "before", "bed", "sleep", "garden", "park", "beach", "drive", "journey", "newborns", "little", "ones",
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "eighteen", "just", "is", "this", "my", "our", "fun", "got", "there", "cradle", "let", "can", "could",
} | {said for words in PLACES.values() for phrase in words for said in phrase.split()}  # a place's words too
word = st.text(string.ascii_lowercase, min_size=3, max_size=9).filter(lambda w: w not in RESERVED)
titles = st.lists(word, min_size=1, max_size=5).map(" ".join)
sentences = st.lists(word, min_size=2, max_size=8).map(" ".join)
steps = st.lists(sentences, min_size=1, max_size=3).map(lambda s: ". ".join(x[:1].upper() + x[1:] for x in s))

AGES = st.one_of(
    st.just(("", None)),
    st.integers(1, 24).map(lambda n: (f"for babies from {n} months", (n, 48))),
    st.tuples(st.integers(1, 3), st.integers(1, 3)).filter(lambda ab: ab[0] < ab[1]).map(
        lambda ab: (f"for {ab[0]} to {ab[1]} year olds", (12 * ab[0], min(48, 12 * ab[1] + 11)))),
    st.tuples(st.integers(0, 24), st.integers(0, 24)).filter(lambda ab: ab[0] < ab[1]).map(
        lambda ab: (f"for {ab[0]} to {ab[1]} months", ab)),
)
PLACE_SAID = st.sampled_from([("", None), ("in the car", Place.car), ("outdoors", Place.outdoor),
                              ("in the bath", Place.bath), ("outside", Place.outdoor),
                              ("at bedtime", Place.bedtime), ("indoors", Place.indoor)])
FORMS = [
    "add a game{head} called {title}: {steps}{tail}",
    "a new game{head}, {title}, you {steps}{tail}",
    "save a game{head} named {title} where you {steps}{tail}",
    "here's a game{head}: {title}. {steps}{tail}",
    "um can you add a new game{head} called {title} - {steps}{tail}",
    "Add a game called {title}{head}: {steps}{tail}",
]


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@given(form=st.sampled_from(FORMS), title=titles, how=steps, age=AGES, place=PLACE_SAID,
       age_first=st.booleans(), place_first=st.booleans(), stop=st.sampled_from(["", "."]))
def test_any_title_and_steps_in_any_form_read_back(
    form: str, title: str, how: str, age: tuple[str, tuple[int, int] | None],
    place: tuple[str, Place | None], age_first: bool, place_first: bool, stop: str,
) -> None:
    (age_said, age_months), (place_said, where) = age, place
    head = [said for said, first in ((age_said, age_first), (place_said, place_first)) if said and first]
    tail = [said for said, first in ((age_said, age_first), (place_said, place_first)) if said and not first]
    text = form.format(title=title, steps=how, head="".join(f" {said}" for said in head),
                       tail="".join(f", {said}" for said in tail) + stop)
    told = read_told(text)
    assert told == Told(title=capital(title), how=capital(how), age_months=age_months,
                        places=(where,) if where else ()), text
    game = game_from_text(text, "Anna")
    assert game.title == capital(title) and game.steps[-1] == CLOSING_STEP
    assert " ".join(game.steps[:-1]).replace(".", "") == capital(how).replace(".", "")
    assert game.places == ([where] if where else list(ANYWHERE))
    if age_months:
        assert game.age_months == age_months


@given(text=st.text(max_size=300))
def test_no_text_makes_the_parser_fail(text: str) -> None:
    told = read_told(text)
    assert told.title is None or 1 <= len(told.title) <= 80
    read_title(text)
    read_how(text)
    try:
        game = game_from_text(text, "Anna")
    except ValueError:  # says what is missing (a GameError or pydantic's own is a ValueError)
        return
    assert 2 <= len(game.steps) <= 5 and 3 <= len(game.title) <= 80


@given(text=st.lists(st.sampled_from(["add", "a", "game", "called", ":", ",", "where", "you", "for",
                                      "from", "6", "months", "in", "the", "car", "x", ".", "-"]),
                     max_size=40).map(" ".join))
def test_no_telling_made_of_the_forms_words_makes_it_fail(text: str) -> None:
    read_told(text)
    with contextlib.suppress(ValueError):
        game_from_text(text, "Anna")


@pytest.mark.parametrize(("text", "told"), [
    ("Add a game called sock puppets: put a sock on your hand and make it talk",
     Told("Sock puppets", "Put a sock on your hand and make it talk")),
    ("a new game, peekaboo, you hide behind your hands and pop out",
     Told("Peekaboo", "Hide behind your hands and pop out")),
    ("save a game named bath boats where you float cups in the bath",
     Told("Bath boats", "Float cups", places=(Place.bath,))),
    ("here's a game: den. Put a blanket over the table. Crawl in together",
     Told("Den", "Put a blanket over the table. Crawl in together")),
    ("add a game for babies from 6 months called sock puppets: put a sock on your hand and make it talk",
     Told("Sock puppets", "Put a sock on your hand and make it talk", (6, 48))),
    ("a new game for 1 to 2 year olds, tower, you stack cups outdoors",
     Told("Tower", "Stack cups", (12, 35), (Place.outdoor,))),
    ("um add a game called car spotting in the car you count the red cars",
     Told("Car spotting", "Count the red cars", places=(Place.car,))),
    ("save a game where you roll a ball back and forth", Told(how="Roll a ball back and forth")),
    ("add a game called sock puppets", Told("Sock puppets")),
    ("add a new game", Told()),
    ("a game for toddlers called jumping jacks: you jump and clap", Told("Jumping jacks", "Jump and clap",
                                                                      (12, 48))),
])
def test_one_breath_tellings(text: str, told: Told) -> None:
    assert read_told(text) == told


@pytest.mark.parametrize(("said", "title"), [
    ("sock puppets", "Sock puppets"), ("it's called sock puppets.", "Sock puppets"),
    ("call it the tickle monster", "The tickle monster"), ("we call it bath boats", "Bath boats"),
])
def test_titles_said_in_answer(said: str, title: str) -> None:
    assert read_title(said)[0] == title


def test_how_said_in_answer_takes_the_age_and_the_place() -> None:
    said = "you put a sock on your hand and make it talk, for babies from 6 months, in the car"
    assert read_how(said) == Told(
        how="Put a sock on your hand and make it talk", age_months=(6, 48), places=(Place.car,))


def test_the_issues_sentence_makes_the_game_it_says() -> None:
    game = game_from_text("Add a game called sock puppets: put a sock on your hand and make it talk", "Anna")
    assert game.title == "Sock puppets" and game.id == "sock-puppets"
    assert game.steps == ["Put a sock on your hand and make it talk.", CLOSING_STEP]
    assert "sock" in game.materials and game.added_by == "Anna"


def test_nothing_to_play_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="say what you do"):
        game_from_text("add a game called sock puppets", "Anna")
    with pytest.raises(ValueError, match="say what the game is"):
        game_from_text("   ", "Anna")


@pytest.mark.parametrize("offer", [
    "i've got a new game for you", "can i add a game to your list", "i have a game for her",
    "let me tell you a game", "here is a game we play", "here's a game we play together", "add a game",
])
def test_an_offer_to_tell_a_game_says_neither_title_nor_steps(offer: str) -> None:
    # Found by the held-out conversations: "for you" was saved as the game's steps, so the
    # questions skipped "how do you play it?".
    assert read_told(offer) == Told()


@pytest.mark.parametrize(("said", "how"), [
    ("add a game where you play the drums on a pot", "Play the drums on a pot"),
    ("add a game where you dance to the music", "Dance to the music"),
    ("add a game called scarf hide: with the scarf, hide", "With the scarf, hide"),
])
def test_short_steps_are_still_steps(said: str, how: str) -> None:
    assert read_told(said).how == how
