"""The synthetic nursery both demo models learn from and the demo camera shows."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from models.scenes import (
    MOODS_IN,
    SCENES,
    captions_for,
    make_room,
    moods_csv,
    render_clip,
    render_scene,
    synthesize,
)


def test_every_image_has_captions_and_each_baby_a_mood(tmp_path: Path) -> None:
    path = synthesize(tmp_path, images=32, sessions=4, size=80, seed=5)
    rows = list(csv.DictReader(path.open()))
    captions = defaultdict(list)
    for row in rows:
        captions[row["image"]].append(row["caption"])
        assert (tmp_path / row["image"]).is_file()
        assert (row["mood"] in MOODS_IN[row["scene"]]) if MOODS_IN[row["scene"]] else row["mood"] == ""
    assert len(captions) == 32
    assert all(3 <= len(c) <= 5 and len(set(c)) == len(c) for c in captions.values())
    assert {row["scene"] for row in rows} == set(SCENES)
    assert len({row["session"] for row in rows}) == 4

    moods = list(csv.DictReader(moods_csv(path).open()))
    scene_of = {row["image"]: row["scene"] for row in rows}
    assert len(moods) == sum(1 for image in captions if scene_of[image] != "empty")
    assert {m["label"] for m in moods} == {"feed", "happy", "upset", "sleep"}
    assert all(m["session"] and m["captured_at"] for m in moods)


@pytest.mark.parametrize("scene", SCENES)
def test_captions_name_the_scene(scene: str) -> None:
    words = {"crawling": ("stair",), "standing": ("window",), "climbing": ("climb",), "sleeping": ("sleep",),
             "awake": (" in the ",), "sitting": ("floor",), "empty": ("empty", "nobody", "no one"),
             "held": ("parent", "adult")}  # each caption of the scene says one of these
    captions = captions_for(scene, random.Random(0))
    assert captions
    for caption in captions:
        assert any(word in caption for word in words[scene]), caption


def test_scenes_and_moods_differ_and_clips_render(tmp_path: Path) -> None:
    rng = random.Random(0)
    room = make_room("r", datetime(2026, 1, 5, 21), rng)
    frames = [render_scene(scene, 96, room, random.Random(1)) for scene in SCENES]
    assert all(f.size == (96, 96) for f in frames)
    assert len({f.tobytes() for f in frames}) == len(SCENES)
    faces = {mood: render_scene("held", 96, room, random.Random(2), mood=mood).tobytes()
             for mood in MOODS_IN["held"]}
    assert len(set(faces.values())) == len(faces)  # the same shot, another mood: another picture
    clip = render_clip(tmp_path, ["sleeping", ("awake", "upset"), "empty"], size=64)
    assert [Image.open(p).size for p in clip] == [(64, 64)] * 3
    with pytest.raises(ValueError, match="draws"):
        render_scene("flying", 64, room, rng)
    with pytest.raises(ValueError, match="shows"):
        render_scene("sleeping", 64, room, rng, mood="upset")
