"""A camera that cannot be reached is retried with backoff and reported offline, with the
same `since` each time, until it comes back."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import redis
from celery import Celery
from PIL import Image

from services.bus.events import CameraOffline, FrameCaptured
from services.camera.ingest import Ingest
from services.camera.status import CameraStatus
from services.settings import Settings
from tests.conftest import wait_for
from tests.services.camera.clips import bus_events, camera_settings, moving_clip, running


def test_an_offline_camera_is_reported_with_backoff_until_it_returns(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path
) -> None:
    missing = tmp_path / "later.mp4"
    cameras = [
        {"name": "cot", "child": "Mia", "source": str(missing)},
        {"name": "door", "child": "Leo", "source": "rtsp://127.0.0.1:9/stream"},  # refused
    ]
    settings = camera_settings(settings, cameras, retry_initial_s=0.2, retry_max_s=0.8,
                               motion_threshold=0, offline_after_s=2)
    with running(Ingest(settings, client, sender, settings.camera.cameras)):
        time.sleep(2.5)
        reports = bus_events(client, settings, CameraOffline)
        cot = [(at, e) for at, e in reports if e.camera == "cot"]
        # Tries at 0, 0.2, 0.6, 1.4, 2.2 s: the wait doubles up to its cap.
        assert 4 <= len(cot) <= 6, [at for at, _e in cot]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(cot)]
        for gap, expected in zip(gaps, [0.2, 0.4, 0.8, 0.8], strict=False):
            assert expected - 0.05 <= gap <= expected + 0.25, gaps
        assert len({e.since for _at, e in cot}) == 1  # the same outage throughout
        assert all(e.child == "Mia" and str(missing) in e.error for _at, e in cot)
        door = [e for _at, e in reports if e.camera == "door"]
        assert door and door[0].child == "Leo" and "refused" in door[0].error.lower()
        assert CameraStatus(client).read("cot")["state"] == "offline"

        moving_clip(missing, seconds=1.0)  # the camera comes back
        back = wait_for(lambda: [e for _at, e in bus_events(client, settings, FrameCaptured)],
                        timeout=5, what="a frame from the camera that came back")
        assert back[0].camera == "cot"
        assert wait_for(lambda: CameraStatus(client).read("cot")["state"] == "online", timeout=2)
        count = len(bus_events(client, settings, CameraOffline))
        time.sleep(1.0)
        assert [e.camera for _at, e in bus_events(client, settings, CameraOffline)[count:]] in (
            [], ["door"], ["door", "door"])  # cot is quiet again, door still down


def test_a_camera_that_falls_silent_is_offline_since_its_last_picture(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(drop / "0001.jpg")
    cot = {"name": "cot", "child": "Mia", "source": str(drop)}
    settings = camera_settings(settings, [cot], sample_hz=10, offline_after_s=0.6,
                               retry_initial_s=0.3, retry_max_s=0.3)
    with running(Ingest(settings, client, sender, settings.camera.cameras)):
        wait_for(lambda: bus_events(client, settings, CameraOffline)[2:], timeout=8,
                 what="the silent camera reported offline three times")
        reports = bus_events(client, settings, CameraOffline)
    frames = bus_events(client, settings, FrameCaptured)
    assert len(frames) == 1  # reconnecting does not pass its old picture off as new
    # Offline since its last picture, through every retry.
    assert {e.since for _at, e in reports} == {frames[0][1].captured_at}
    assert all("no new image" in e.error for _at, e in reports)
