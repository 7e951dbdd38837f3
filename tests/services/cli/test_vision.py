"""`cradle vision analyse`: the served models and rules on files, as the worker runs them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.probes import real_photos
from models.scenes import make_room, render_scene
from services.cli.vision import local_time
from tests.conftest import ROOT, require

MODELS = ROOT / "var" / "models"
ZONE = ZoneInfo("Europe/Paris")


def analyse(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(CRADLE_MODELS__DIR=str(MODELS), CRADLE_FAMILY__TIMEZONE="Europe/Paris")
    return subprocess.run([sys.executable, "-m", "services.cli.main", "vision", "analyse", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_real_photos_are_unfamiliar_and_a_synthetic_stairs_scene_is_a_hazard(tmp_path: Path) -> None:
    require((MODELS / "mood" / "demo.pt").is_file() and (MODELS / "caption" / "demo.pt").is_file(),
            "the demo models are missing: run `make setup`")
    room = make_room("nursery", datetime(2026, 1, 1), random.Random(3))
    scenes = []
    for seed in range(2):
        scenes.append(tmp_path / f"stairs{seed}.jpg")
        render_scene("crawling", 176, room, random.Random(seed)).save(scenes[-1])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a picture")
    photos = real_photos()[:3]
    done = analyse("--json", "--at", "23:30", *map(str, [*photos, *scenes, broken]))
    assert done.returncode == 1, done.stderr  # one file could not be read
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["file"] for row in rows] == [str(p) for p in [*photos, *scenes, broken]]
    for row in rows[:3]:
        assert row["familiar"] is False and row["hazards"] == []
        assert row["mood_novelty"] > row["mood_threshold"]
        assert row["caption_novelty"] > row["caption_threshold"]
        assert {"file", "mood", "caption", "familiar", "hazards", "probabilities"} <= set(row)
    for row in rows[3:5]:
        assert row["familiar"] is True and "near_stairs" in row["hazards"], row
        assert "stair" in row["caption"] and row["mood"] in row["probabilities"]
    assert rows[5]["error"] and rows[5]["hazards"] == [] and rows[5]["familiar"] is False

    told = analyse(str(photos[0]))
    assert told.returncode == 0 and "familiar no" in told.stdout and "hazards  none" in told.stdout
    wrong = analyse("--at", "25:00", str(photos[0]))
    assert wrong.returncode == 2 and "HH:MM" in wrong.stderr


@given(st.integers(0, 23), st.integers(0, 59))
def test_at_is_a_time_of_day_in_the_family_zone(hour: int, minute: int) -> None:
    now = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 December in Paris
    when = local_time(f"{hour:02d}:{minute:02d}", ZONE, now)
    assert (when.hour, when.minute, when.tzinfo) == (hour, minute, ZONE)
    assert when.date() == now.astimezone(ZONE).date() == datetime(2026, 12, 3).date()


@given(st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz -/", min_size=1, max_size=8),
    st.tuples(st.integers(24, 99), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.tuples(st.integers(0, 23), st.integers(60, 99)).map(lambda t: f"{t[0]}:{t[1]}"),
    st.sampled_from(["", "2330", "23", "23:3", "23:30:00", "7.30", "-1:00"]),
))
def test_anything_else_is_refused_with_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        local_time(text, ZONE)
