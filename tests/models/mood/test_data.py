from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from models.mood.data import (
    DataError,
    Sample,
    balanced_sampler,
    check_images,
    class_counts,
    class_weights,
    load_samples,
    read_manifest,
    read_split,
    split_samples,
    write_split,
)

MOODS = ("feed", "happy", "upset", "sleep")
photo = st.tuples(st.sampled_from(MOODS), st.integers(0, 9))  # (label, session)


def _samples(photos: list[tuple[str, int]]) -> list[Sample]:
    return [Sample(Path(f"{i}.jpg"), label, None, f"s{session}")
            for i, (label, session) in enumerate(photos)]


@settings(max_examples=60, deadline=None)
@given(st.lists(photo, min_size=6, max_size=80), st.integers(0, 2**16), st.booleans())
def test_a_session_is_never_on_two_sides(
    photos: list[tuple[str, int]], seed: int, with_test: bool
) -> None:
    samples = _samples(photos)
    if len({s.session for s in samples}) < (3 if with_test else 2):
        with pytest.raises(DataError):
            split_samples(samples, "session", 0.3, 0.3 if with_test else 0.0, seed)
        return
    split = split_samples(samples, "session", 0.3, 0.3 if with_test else 0.0, seed)
    sides = [{s.session for s in part} for part in (split.train, split.val, split.test)]
    assert not sides[0] & sides[1] and not sides[0] & sides[2] and not sides[1] & sides[2]
    assert sorted(map(str, (s.path for s in split.train + split.val + split.test))) == sorted(
        str(s.path) for s in samples)
    assert split.train and split.val
    again = split_samples(samples, "session", 0.3, 0.3 if with_test else 0.0, seed)
    assert again == split  # a fixed seed gives the same split


def test_split_is_stratified(small_samples: list[Sample]) -> None:
    split = split_samples(small_samples, "session", 0.25, 0.25, seed=4)
    for part in (split.train, split.val, split.test):
        assert {s.label for s in part} == set(MOODS)


def test_split_by_day_keeps_a_day_together() -> None:
    start = datetime(2026, 3, 1, 9)
    samples = [Sample(Path(f"{i}.jpg"), MOODS[i % 4], start + timedelta(days=i % 5, hours=i % 7),
                      f"s{i}") for i in range(60)]
    split = split_samples(samples, "day", 0.2)
    train_days = {s.captured_at.date() for s in split.train if s.captured_at}
    assert train_days.isdisjoint({s.captured_at.date() for s in split.val if s.captured_at})


def test_one_session_cannot_be_split_honestly() -> None:
    with pytest.raises(DataError, match="at least 2"):
        split_samples(_samples([("feed", 1), ("happy", 1), ("sleep", 1)]), "session", 0.3)


def test_corrupt_and_fake_jpegs_are_skipped_and_reported(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    Image.new("RGB", (64, 64), (200, 120, 90)).save(good, quality=90)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a photo")
    samples = [Sample(p, "happy") for p in (good, truncated, fake, tmp_path / "gone.jpg")]
    kept, bad = check_images(samples)
    assert [s.path for s in kept] == [good]
    assert [p for p, _ in bad] == [truncated, fake, tmp_path / "gone.jpg"]
    assert all(reason for _, reason in bad)


def test_folder_layout_with_session_folders(tmp_path: Path) -> None:
    for label, session in (("feed", "mon"), ("feed", "tue"), ("sleep", "mon")):
        (tmp_path / label / session).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / label / session / "a.jpg")
    samples = load_samples(tmp_path)
    assert sorted((s.label, s.session) for s in samples) == [
        ("feed", "mon"), ("feed", "tue"), ("sleep", "mon")]
    assert all(s.captured_at is not None for s in samples)
    with pytest.raises(DataError, match="not among the classes"):
        load_samples(tmp_path, ("feed", "happy"))


def test_manifest_reading_and_errors(tmp_path: Path, small_faces: Path) -> None:
    samples = read_manifest(small_faces)
    assert len(samples) == 48
    assert all(s.path.is_file() and s.session and s.captured_at for s in samples)
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label,captured_at,session\na.jpg,feed,yesterday,s1\n")
    with pytest.raises(DataError, match=r"bad\.csv:2"):
        read_manifest(bad)


def test_split_file_round_trip(small_samples: list[Sample], tmp_path: Path) -> None:
    split = split_samples(small_samples, "session", 0.25, 0.25)
    assert read_split(write_split(split, tmp_path / "split.json")) == split


def test_class_counts_weights_and_sampler() -> None:
    samples = _samples([("feed", 0)] * 30 + [("happy", 1)] * 10 + [("sleep", 2)] * 20)
    assert class_counts(samples, MOODS) == {"feed": 30, "happy": 10, "upset": 0, "sleep": 20}
    weights = class_weights(samples, MOODS)
    assert weights[2] == 0 and weights[1] > weights[3] > weights[0]
    drawn = Counter(samples[i].label for i in balanced_sampler(samples, seed=1))
    assert len(list(balanced_sampler(samples))) == len(samples)
    assert torch.tensor(list(drawn.values())).float().std() < 6  # roughly 20 each, not 30/10/20
