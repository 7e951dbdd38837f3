"""`python -m services.camera` with no camera configured: the demo clip plays, frames are
announced, and the real vision worker turns them into moods on the bus."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import redis

from models.caption.safety import DEFAULT_RULES, Period, load_rules
from models.scenes import MOODS_IN
from models.vision import hazards, load_analyser
from services.bus.events import FrameCaptured, MoodObserved
from services.camera.demo import FPS, HOLD_S, SCRIPTED_ALERTS, STORY, demo_clip, story_pictures
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings
from services.settings.sections import FamilySettings
from tests.conftest import ROOT, child_env, require, wait_for
from tests.services.camera.clips import bus_events

MODELS = ROOT / "var" / "models"


def test_the_demo_story_has_every_mood_and_scripts_its_alerts() -> None:
    shots = [shot for shot, _picture in story_pictures()]
    assert {shot.mood for shot in shots} == {"sleep", "happy", "upset", "feed"}
    assert all(shot.mood in MOODS_IN[shot.scene] for shot in shots)
    assert shots[0].scene == "sleeping" and len(shots) == sum(shot.pictures for shot in STORY)
    assert SCRIPTED_ALERTS == [("hazard", "urgent", "near stairs")]


def test_the_demo_clip_reads_as_its_script_to_the_demo_models(tmp_path: Path) -> None:
    """One framing for the clip and the models: every picture, through the video codec,
    is familiar, and only the scripted shots raise a hazard (by day or by night)."""
    import av

    require((MODELS / "mood" / "demo.pt").is_file() and (MODELS / "caption" / "demo.pt").is_file(),
            "the demo models are missing: run `make setup`")
    shots = [shot for shot, _picture in story_pictures()]
    per_picture = round(HOLD_S * FPS)
    paths = []
    with av.open(str(demo_clip(tmp_path))) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n % per_picture == per_picture // 2:  # mid-picture, as the 1 Hz sampler takes it
                paths.append(tmp_path / f"{n:04d}.jpg")
                frame.to_image().save(paths[-1], quality=85)
    assert len(paths) == len(shots)
    night = FamilySettings()  # the night the vision worker gives the rules
    rules = load_rules(DEFAULT_RULES, periods={"night": Period(night.night_start, night.night_end)})
    analyses = load_analyser(MODELS, device="cpu").analyse(paths)
    unfamiliar = [shot.scene for shot, a in zip(shots, analyses, strict=True) if not a.familiar]
    assert len(unfamiliar) <= 1, unfamiliar
    for shot, analysis in zip(shots, analyses, strict=True):
        raised = {h.kind for when in (datetime(2026, 1, 5, 10), datetime(2026, 1, 5, 23))
                  for h in hazards(analysis, rules, when)}
        assert raised <= ({"near_stairs"} if shot.alert else set()), (shot, analysis.caption)
    moods_right = sum(a.mood.mood == shot.mood for shot, a in zip(shots, analyses, strict=True))  # type: ignore[union-attr]
    assert moods_right >= 0.8 * len(shots)


def test_the_demo_camera_feeds_moods_end_to_end(
    redis_server: EmbeddedRedis, client: redis.Redis, settings: Settings, tmp_path: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    require((MODELS / "mood" / "demo.pt").is_file(), "the demo mood model is missing: run `make setup`")
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
