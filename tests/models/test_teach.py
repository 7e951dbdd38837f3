"""Teaching as pure logic: captions written from tags, the promotion gate's verdicts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from models.teach import Gate, Scores, TaughtFrame, captions_for, grouping, judge
from services.settings.sections import DEFAULT_TAGS

PHRASES = {tag.name: tag.phrases for tag in DEFAULT_TAGS}
NAMES = sorted(PHRASES)


@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True), st.integers(0, 1000))
def test_every_caption_says_every_tag_in_one_of_its_phrasings(tags: list[str], seed: int) -> None:
    captions = captions_for(tags, PHRASES, random.Random(seed))
    assert 1 <= len(captions) <= 4 and len(set(captions)) == len(captions)
    for caption in captions:
        parts = caption.split(" and ")
        assert len(parts) == len(tags)
        for tag, part in zip(tags, parts, strict=True):
            shapes = [p.replace("{b}", "").replace("{c}", "").split() for p in PHRASES[tag]]
            assert any(all(word in part.split() for word in shape) for shape in shapes), (tag, part)


def test_tags_nobody_knows_make_no_caption() -> None:
    assert captions_for(["on_the_moon"], PHRASES, random.Random(0)) == []


def frames_over(days: int) -> list[TaughtFrame]:
    start = datetime(2026, 11, 1, 9)
    return [TaughtFrame(Path(f"{d}-{h}.jpg"), "happy", (), f"cot-2026-11-0{d + 1}",
                        start + timedelta(days=d, hours=h)) for d in range(days) for h in range(3)]


def test_validation_keeps_days_whole_once_there_are_three() -> None:
    assert {grouping(frames_over(3))(f) for f in frames_over(3)} == {f"cot-2026-11-0{d}" for d in (1, 2, 3)}
    assert len({grouping(frames_over(2))(f) for f in frames_over(2)}) == 6  # a young set: by the hour


def mood(accuracy: float, recall: dict[str, float], frames: int = 40) -> Scores:
    return Scores("mood", frames, 1.0, {"accuracy": accuracy, "recall": recall})


def scenes(recall: float | None, precision: float | None, frames: int = 40) -> Scores:
    return Scores("caption", frames, 1.0, {"hazard_recall": recall, "hazard_precision": precision})


def test_the_gate_promotes_only_better_models_above_the_floors() -> None:
    gate = Gate(margin=0.02, mood_accuracy_floor=0.6, mood_recall_floor=0.3)
    fine = {"feed": 0.8, "happy": 0.9, "upset": 0.7, "sleep": 1.0}
    assert judge(mood(0.85, fine), mood(0.0, {}), gate) == (
        True, "accuracy 85% on your held-out pictures, against 0%")
    assert judge(mood(0.85, fine), None, gate)[0]
    below, why = judge(mood(0.55, fine), None, gate)
    assert not below and "below 60%" in why
    one_blind, why = judge(mood(0.8, {**fine, "upset": 0.1}), None, gate)
    assert not one_blind and "'upset'" in why
    same, why = judge(mood(0.81, fine), mood(0.8, fine), gate)
    assert not same and "not 2% better" in why
    assert not judge(mood(0.9, fine, frames=0), None, gate)[0]

    assert judge(scenes(0.8, 0.9), scenes(0.0, 1.0), gate)[0]
    none, why = judge(scenes(None, None), scenes(None, None), gate)
    assert not none and "shows a hazard" in why
    assert "raises 50%" in judge(scenes(0.5, 0.9), None, gate)[1]
    assert "were real" in judge(scenes(0.9, 0.3), None, gate)[1]
    assert "no better" in judge(scenes(0.8, 0.8), scenes(0.8, 0.8), gate)[1]


@given(st.floats(0, 1), st.floats(0, 1))
def test_a_candidate_no_better_than_the_serving_model_is_never_promoted(candidate: float,
                                                                        serving: float) -> None:
    recall = {"happy": 1.0}
    promoted, _why = judge(mood(candidate, recall), mood(serving, recall), Gate())
    assert not promoted or (candidate >= serving + Gate().margin and candidate >= Gate().mood_accuracy_floor)
