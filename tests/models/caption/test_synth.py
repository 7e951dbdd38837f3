from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from models.caption.synth import SCENES, captions_for, make_room, render_clip, render_scene, synthesize


def test_every_image_has_three_to_five_distinct_captions(tmp_path: Path) -> None:
    path = synthesize(tmp_path, images=28, sessions=4, size=80, seed=5)
    rows = list(csv.DictReader(path.open()))
    captions = defaultdict(list)
    for row in rows:
        captions[row["image"]].append(row["caption"])
        assert (tmp_path / row["image"]).is_file()
    assert len(captions) == 28
    assert all(3 <= len(c) <= 5 and len(set(c)) == len(c) for c in captions.values())
    assert {row["scene"] for row in rows} == set(SCENES)
    assert len({row["session"] for row in rows}) == 4


@pytest.mark.parametrize("scene", SCENES)
def test_captions_name_the_scene(scene: str) -> None:
    words = {"crawling": "stair", "standing": "window", "climbing": "climb", "sleeping": "sleep"}
    for caption in captions_for(scene, random.Random(0)):
        assert words.get(scene, "") in caption


def test_scenes_differ_and_clips_render(tmp_path: Path) -> None:
    rng = random.Random(0)
    room = make_room("r", datetime(2026, 1, 5, 21), rng)
    frames = [render_scene(scene, 96, room, rng) for scene in SCENES]
    assert all(f.size == (96, 96) for f in frames)
    assert len({f.tobytes() for f in frames}) == len(SCENES)
    clip = render_clip(tmp_path, ["sleeping", "climbing", "empty"], size=64)
    assert [Image.open(p).size for p in clip] == [(64, 64)] * 3
    with pytest.raises(ValueError, match="draws"):
        render_scene("flying", 64, room, rng)
