"""A video file through camera ingest: sampled at the configured rate, still frames
skipped, JPEGs stored where the events say, one batch at a time to the vision queue."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
import redis
from celery import Celery
from PIL import Image
from typer.testing import CliRunner

from services.bus.events import FrameCaptured
from services.camera.ingest import Ingest
from services.camera.motion import MotionGate
from services.camera.status import CameraStatus
from services.cli.main import app
from services.settings import Settings, get_settings
from tests.services.camera.clips import bus_events, camera_settings, moving_clip, running, still_clip


def test_a_video_file_gives_frames_at_the_configured_rate(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path
) -> None:
    clip = moving_clip(tmp_path / "moving.mp4", seconds=2.0, fps=10)
    cot = {"name": "cot", "child": "Mia", "room": "nursery", "source": str(clip)}
    settings = camera_settings(settings, [cot], sample_hz=4, motion_threshold=0)
    with running(Ingest(settings, client, sender, settings.camera.cameras)):
        time.sleep(3.1)  # past the clip's end: it loops
    frames = [event for _at, event in bus_events(client, settings, FrameCaptured)]
    assert 10 <= len(frames) <= 13, len(frames)  # 4 Hz for 3 s
    times = [frame.captured_at.timestamp() for frame in frames]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert abs((times[-1] - times[0]) / len(gaps) - 0.25) < 0.03, gaps
    assert max(gaps) < 0.4, gaps
    for frame in frames:
        assert (frame.camera, frame.child, frame.source) == ("cot", "Mia", "camera")
        stored = settings.frames_dir / frame.path
        assert stored.parent.parent == settings.frames_dir / "cot"
        assert stored.parent.name == frame.captured_at.strftime("%Y-%m-%d")
        with Image.open(stored) as image:
            assert image.size == (128, 128)
    status = CameraStatus(client).read("cot")
    assert (status["state"], status["captured"], status["child"]) == ("online", str(len(frames)), "Mia")
    # No worker runs: one batch went out and the rest wait, never a pile of messages.
    assert client.llen("vision") == 1


def test_still_frames_are_skipped(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clip = still_clip(tmp_path / "still.mp4", seconds=2.0)
    cot = {"name": "cot", "child": "Mia", "source": str(clip)}
    settings = camera_settings(settings, [cot], sample_hz=5, motion_threshold=0.01, still_every_s=0)
    with running(Ingest(settings, client, sender, settings.camera.cameras)) as ingest:
        time.sleep(1.6)
    assert len(bus_events(client, settings, FrameCaptured)) == 1  # the first frame only
    assert ingest.stats["still"] >= 5
    assert CameraStatus(client).read("cot")["still"] == str(ingest.stats["still"])

    monkeypatch.setenv("CRADLE_REDIS__URL", str(settings.redis.url))
    get_settings.cache_clear()
    shown = CliRunner().invoke(app, ["camera", "status"], env={"COLUMNS": "200"})
    get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "cot" in shown.output and "Mia" in shown.output and "online" in shown.output


def test_the_motion_gate_counts_change_since_the_last_frame_let_through() -> None:
    gate = MotionGate(threshold=0.05, pixel_delta=25, still_every_s=10)
    grey = Image.new("RGB", (160, 120), (100, 100, 100))
    assert gate.admit(_array(grey), now=0.0)  # the first frame always goes
    assert not gate.admit(_array(grey), now=1.0)
    noisy = _array(grey).copy()
    noisy[::7, ::7] = 110  # sensor noise: small and scattered
    assert not gate.admit(noisy, now=2.0)
    moved = _array(grey).copy()
    moved[20:60, 30:80] = 240  # something big moved
    assert gate.admit(moved, now=3.0)
    assert not gate.admit(moved, now=4.0)
    assert gate.admit(moved, now=13.5)  # still, but it is time to look again


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def test_a_camera_given_to_another_child_records_for_them_without_a_restart(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path
) -> None:
    from datetime import date

    from services.family import FamilyStore

    clip = moving_clip(tmp_path / "moving.mp4", seconds=2.0, fps=10)
    cot = {"name": "cot", "child": "Baby", "source": str(clip)}
    settings = camera_settings(settings, [cot], sample_hz=5, motion_threshold=0)
    family = FamilyStore(client, settings)
    assert family.camera_children() == {"cot": "Baby"}  # seeded from the camera's settings
    ingest = Ingest(settings, client, sender, settings.camera.cameras)
    ingest.bindings.refresh_s = 0.2
    with running(ingest):
        time.sleep(0.8)
        asked = time.time()  # no frame published before this can know of Léo
        leo = family.add("Léo", born=date(2025, 1, 1), cameras=["cot"])
        rebound = time.time()
        time.sleep(1.0)
    frames = bus_events(client, settings, FrameCaptured)
    before = {f.child for at, f in frames if at < asked - 0.01}  # stream ids count whole ms
    after = {f.child for at, f in frames if at > rebound + 0.45}  # a refresh and a frame later
    assert before == {"Baby"} and after == {leo.id}, frames
    assert CameraStatus(client).read("cot")["child"] == leo.id
