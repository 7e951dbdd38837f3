"""`python -m services.camera` with no camera configured: the demo clip plays, frames are
announced, and the real vision worker turns them into moods on the bus."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from services.bus.events import FrameCaptured, MoodObserved
from services.camera.demo import STORY, story_pictures
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings
from tests.conftest import ROOT, child_env, wait_for
from tests.services.camera.clips import bus_events

MODELS = ROOT / "var" / "models"


def test_the_demo_story_has_every_mood() -> None:
    scenes = [scene for scene, _picture in story_pictures()]
    assert {"sleep", "happy", "upset", "feed"} <= set(scenes)
    assert scenes[0] == "sleep" and len(scenes) >= sum(count for scene, count in STORY if scene != "crawling")


def test_the_demo_camera_feeds_moods_end_to_end(
    redis_server: EmbeddedRedis, client: redis.Redis, settings: Settings, tmp_path: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    if not (MODELS / "mood" / "demo.pt").is_file():
        pytest.skip("the demo mood model is missing: run `make setup`")
    start_worker("vision", CRADLE_MODELS__DIR=str(MODELS))
    with (tmp_path / "camera.log").open("wb") as log:
        camera = subprocess.Popen(
            [sys.executable, "-m", "services.camera"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env=child_env(redis_server.url, tmp_path / "data", CRADLE_CAMERA__SAMPLE_HZ="2"),
        )
        try:
            moods = wait_for(lambda: bus_events(client, settings, MoodObserved), timeout=120,
                             what="a mood from the demo camera")
            frames = {e.frame_id: e for _at, e in bus_events(client, settings, FrameCaptured)}
            mood = moods[0][1]
            assert mood.frame_id in frames and (mood.camera, mood.child) == ("demo", "Baby")
            assert (settings.frames_dir / frames[mood.frame_id].path).is_file()
            assert list((tmp_path / "data" / "camera").glob("demo-v*.mp4"))
        finally:
            camera.send_signal(signal.SIGTERM)
            code = camera.wait(30)
    assert code == 0, (tmp_path / "camera.log").read_text()[-2000:]
