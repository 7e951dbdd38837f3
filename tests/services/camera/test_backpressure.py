"""A vision worker slower than the cameras: the queue never grows past its bound, stale
frames are dropped and counted, and the frame analysed next is always the newest."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import redis
from celery import Celery

from services.bus.events import FrameCaptured
from services.camera.ingest import Ingest
from services.camera.status import CameraStatus
from services.settings import Settings
from tests.conftest import wait_for
from tests.services.camera.clips import bus_events, camera_settings, moving_clip, running
from tests.services.camera.slow_vision import ANALYSED, DELAY


def test_a_slow_worker_gets_the_newest_frames_and_the_queue_stays_bounded(
    settings: Settings, client: redis.Redis, sender: Celery, tmp_path: Path,
    slow_vision_worker: subprocess.Popen[bytes],
) -> None:
    clip = moving_clip(tmp_path / "moving.mp4", seconds=2.0, fps=10)
    cameras = [{"name": name, "child": "Mia", "source": str(clip)} for name in ("cot", "play")]
    settings = camera_settings(settings, cameras, sample_hz=5, motion_threshold=0)
    client.set(DELAY, 0.6)  # a batch takes 0.6 s; frames come every 0.2 s
    ingest = Ingest(settings, client, sender, settings.camera.cameras, task="tests.camera.slow_analyse")
    watched = {"queued": 0, "in_flight": 0}
    stop_watching = threading.Event()

    def watch() -> None:
        while not stop_watching.is_set():
            watched["queued"] = max(watched["queued"], int(client.llen("vision")))
            watched["in_flight"] = max(watched["in_flight"], len(ingest.dispatcher.in_flight))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    with running(ingest):
        wait_for(lambda: client.llen(ANALYSED) >= 1, timeout=60, what="the worker's first batch")
        watcher.start()
        time.sleep(4.0)
        # the checks on each batch after the first below need at least one
        wait_for(lambda: client.llen(ANALYSED) >= 3, timeout=60, what="two batches after the first")
        stop_watching.set()
    watcher.join()

    assert watched["queued"] <= 1 and watched["in_flight"] <= 1, watched
    batches = [json.loads(raw) for raw in client.lrange(ANALYSED, 0, -1)]
    captured = bus_events(client, settings, FrameCaptured)
    assert len(captured) >= 35  # 2 cameras at 5 Hz for 4 s and more
    assert len(batches) <= len(captured) / 4  # far fewer messages than frames
    dropped = ingest.dispatcher.stats["dropped"]
    assert dropped >= len(captured) / 2
    counted = sum(int(CameraStatus(client).read(name)["dropped"]) for name in ("cot", "play"))
    assert counted == dropped

    frame_ids = [e.frame_id for _at, e in captured]
    for batch in batches[1:]:
        # One frame per camera, and for each the newest (or, if a tick landed between
        # sending and starting, the one before) among those published by the time the
        # worker started on it.
        assert sorted(camera for camera, _id in batch["frames"]) == ["cot", "play"]
        for camera, frame_id in batch["frames"]:
            before = [e.frame_id for at, e in captured if e.camera == camera and at <= batch["started"]]
            assert frame_id in before[-2:], (camera, frame_id, before[-3:])
    for name in ("cot", "play"):  # never back to an older frame, never one twice
        order = [frame_ids.index(f) for batch in batches for camera, f in batch["frames"] if camera == name]
        assert order == sorted(set(order)), order
