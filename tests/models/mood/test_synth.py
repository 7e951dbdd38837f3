from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from models.mood import MOODS
from models.mood.data import read_manifest, scan_folder
from models.mood.synth import synthesize


def test_synthetic_dataset_layout_and_sessions(small_faces: Path) -> None:
    with small_faces.open() as stream:
        rows = list(csv.DictReader(stream))
    assert Counter(row["label"] for row in rows) == dict.fromkeys(MOODS, 12)
    moods_per_session = defaultdict(set)
    for row in rows:
        moods_per_session[row["session"]].add(row["label"])
    assert len(moods_per_session) == 4
    assert all(len(moods) == 4 for moods in moods_per_session.values())  # mixed sessions
    for sample in read_manifest(small_faces)[:6]:
        with Image.open(sample.path) as image:
            assert image.size == (72, 72)
    folder = scan_folder(small_faces.parent)
    assert sorted((s.label, s.session) for s in folder) == sorted(
        (row["label"], row["session"]) for row in rows)


def test_generator_is_seeded_and_varied(tmp_path: Path) -> None:
    first = synthesize(tmp_path / "a", per_class=3, sessions=2, size=48, seed=5)
    second = synthesize(tmp_path / "b", per_class=3, sessions=2, size=48, seed=5)
    images = sorted(first.parent.rglob("*.jpg"))
    assert [p.read_bytes() for p in images] == [
        (second.parent / p.relative_to(first.parent)).read_bytes() for p in images]
    pixels = [np.asarray(Image.open(p), dtype=float) for p in images]
    assert min(np.abs(a - b).mean() for a, b in itertools.pairwise(pixels)) > 1


def test_imbalance_thins_later_classes(tmp_path: Path) -> None:
    manifest = synthesize(tmp_path, per_class=10, sessions=2, size=40, imbalance=0.5)
    counts = Counter(s.label for s in read_manifest(manifest))
    assert [counts[m] for m in MOODS] == [10, 8, 7, 5]
