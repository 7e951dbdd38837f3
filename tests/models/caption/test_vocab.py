from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.caption.vocab import SPECIALS, Vocab, tokenize

WORDS = st.lists(st.sampled_from(["the", "baby", "cot", "stairs", "window", "is", "near"]),
                 min_size=1, max_size=12)


def test_tokenizer_lowercases_and_drops_punctuation() -> None:
    assert tokenize("The baby's at the WINDOW!") == ["the", "baby's", "at", "the", "window"]


def test_specials_come_first_and_rare_words_are_dropped() -> None:
    vocab = Vocab.build(["the baby sleeps", "the baby cries", "a cot"], min_count=2)
    assert tuple(vocab.words[:4]) == SPECIALS
    assert set(vocab.words[4:]) == {"the", "baby"}
    assert vocab.encode("the dragon")[2] == vocab.unk


@given(WORDS)
def test_encode_decode_round_trip(words: list[str]) -> None:
    vocab = Vocab.build([" ".join(words)], min_count=1)
    ids = vocab.encode(" ".join(words).upper())
    assert ids[0] == vocab.start and ids[-1] == vocab.end
    assert vocab.decode(ids) == " ".join(words)
    assert vocab.decode([*ids, *ids]) == " ".join(words)  # stops at the first <end>


def test_json_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.build(["the baby is near the stairs", "the baby is at the window"], min_count=1)
    again = Vocab.load(vocab.save(tmp_path / "vocab.json"))
    assert again.words == vocab.words
    assert json.loads((tmp_path / "vocab.json").read_text())["version"] == 1


def test_unversioned_vocabulary_is_refused(tmp_path: Path) -> None:
    (tmp_path / "vocab.json").write_text(json.dumps({"words": list(SPECIALS)}))
    with pytest.raises(ValueError, match="version"):
        Vocab.load(tmp_path / "vocab.json")
