"""Matching a said name to a child, the way people (and Whisper) say it: any case, accents
or none, "Mia's", a nickname, a near spelling; and a name that is no one's finds nobody."""

from __future__ import annotations

import difflib
import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from services.family import Child, fold
from services.family.names import best_match, mentioned

FAMILY = [Child(id="mia", name="Mia", pronoun="she", nicknames=("Mimi",)),
          Child(id="zoe", name="Zoë", pronoun="she"),
          Child(id="leo", name="Léo-Paul", pronoun="he", nicknames=("Bean",)),
          Child(id="harper", name="Harper Rose", pronoun="they")]
NAMES = {name: child for child in FAMILY for name in child.names}
SAID = [name for child in FAMILY for name in (child.name, *child.nicknames)]


def owner(name: str) -> Child:
    return next(child for child in FAMILY if name in (child.name, *child.nicknames))


def accented(text: str, marks: list[bool]) -> str:
    """`text` with an acute accent on the letters `marks` picks."""
    return "".join(unicodedata.normalize("NFC", ch + "\u0301") if mark and ch.isalpha() else ch
                   for ch, mark in zip(text, marks + [False] * len(text), strict=False))


@given(st.sampled_from(SAID), st.lists(st.booleans(), max_size=12), st.lists(st.booleans(), max_size=12),
       st.sampled_from(["", "'s", "\u2019s", "s"]), st.sampled_from(["", " ", "  "]))
def test_any_case_accents_or_possessive_of_a_known_name_finds_its_child(
        name: str, cases: list[bool], marks: list[bool], possessive: str, space: str) -> None:
    plain = "".join(unicodedata.normalize("NFKD", ch)[0] for ch in name)  # accents off
    cased = "".join(ch.upper() if up else ch.lower()
                    for ch, up in zip(plain, cases + [False] * len(plain), strict=False))
    said = f"{space}{accented(cased, marks)}{possessive}{space}"
    assert best_match(said, NAMES) == owner(name)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_other_words_find_nobody(word: str) -> None:
    assume(all(difflib.SequenceMatcher(None, word, known).ratio() < 0.75 and word.rstrip("s") != known
               for name in NAMES for known in (name, *name.split())))
    assert best_match(word, NAMES) is None


def test_a_whisper_misspelling_a_first_name_and_a_hyphen_said_as_a_space() -> None:
    assert best_match("Harpur Rose", NAMES) == owner("Harper Rose")
    assert best_match("harper", NAMES) == owner("Harper Rose")  # one child alone is called Harper
    assert best_match("leo paul", NAMES) == owner("Léo-Paul")
    assert best_match("bean's", NAMES) == owner("Bean")
    for stranger in ("Harry", "Noah", "Max", "", "   ", "'s"):
        assert best_match(stranger, NAMES) is None, stranger


FILLER = st.lists(st.sampled_from(["how", "is", "did", "she", "sleep", "last", "night", "and", "what",
                                   "about", "doing", "now", "any", "alerts", "for", "nap", "today"]),
                  max_size=6)


@given(FILLER, st.sampled_from(SAID), FILLER, st.sampled_from(["", "'s", "?", "!", ","]))
def test_a_name_said_anywhere_in_a_message_is_found(before: list[str], name: str, after: list[str],
                                                    mark: str) -> None:
    said = " ".join([*before, name.lower() + mark, *after])
    assert mentioned(said, NAMES) == owner(name)


@given(FILLER)
def test_a_message_with_no_family_name_names_nobody(words: list[str]) -> None:
    assert mentioned(" ".join(words), NAMES) is None


def test_a_name_in_a_message_is_whole_or_a_first_name_and_never_a_near_spelling() -> None:
    assert mentioned("how's harper doing", NAMES) == owner("Harper Rose")
    assert mentioned("is leo-paul asleep", NAMES) == owner("Léo-Paul")
    assert mentioned("how is leo paul", NAMES) == owner("Léo-Paul")
    assert mentioned("how is harpur doing", NAMES) is None
    assert mentioned("", NAMES) is None


def test_fold() -> None:
    assert fold("  ZOË\u2019s ") == fold("zoe") == "zoe"
    assert fold("James'") == "james"
    assert fold("Anne-Marie") == "anne marie"
