"""The vision worker's pool process SIGKILLed while it analyses a batch of frames: the
batch goes back to the queue (late acknowledgement, reject on worker lost), runs again in
a fresh process, and each frame's mood reaches the timeline exactly once (the events'
ids derive from the frame, so the repeat's events are dropped as duplicates)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import redis
from celery import Celery
from PIL import Image

from services.bus.events import FrameCaptured, MoodObserved, parse_event
from services.redis_runtime import EmbeddedRedis
from services.timeline.store import Timeline
from tests.conftest import wait_for
from tests.faults.harness import BUS, Consumers, wait_beating
from tests.services.delivery.fakes import FakePushService
from tests.workers.test_vision import MODELS, mood_checkpoint  # noqa: F401 (a fixture)

FRAMES = 6


def pool_children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_vision_worker_killed_mid_batch_doubles_no_frame(
    redis_server: EmbeddedRedis, client: redis.Redis, sender: Celery, tmp_path: Path,
    mood_checkpoint: Path,  # noqa: F811
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    folder = tmp_path / "data" / "frames" / "cot"
    folder.mkdir(parents=True)
    batch = []
    for i in range(FRAMES):
        Image.new("RGB", (96, 96), (10 * i % 255, 120, 200 - 5 * i)).save(folder / f"{i}.jpg")
        frame = FrameCaptured(frame_id=f"frame-{i}", camera="cot", child="Mia", path=f"cot/{i}.jpg",
                              captured_at=datetime.now(UTC))
        batch.append(frame.model_dump(mode="json"))
    worker = start_worker("vision", CRADLE_MODELS__MOOD_CHECKPOINT=str(mood_checkpoint),
                          CRADLE_MODELS__DIR=str(MODELS))
    with FakePushService() as push:
        consumers = Consumers(redis_server.url, tmp_path, push)
        try:
            consumers.start("timeline")
            wait_beating(client, "timeline", besides=set())
            result = sender.send_task("workers.vision.analyse_frames", args=[batch])
            # The batch is taken (unacknowledged) by the pool process: kill that process.
            wait_for(lambda: client.hlen("unacked") and pool_children(worker.pid), timeout=60,
                     interval=0.01, what="the worker to take the batch")
            for child in pool_children(worker.pid):
                os.kill(child, signal.SIGKILL)
            returned = result.get(timeout=120)
            assert worker.poll() is None, "the worker lives on"
            moods = wait_for(lambda: len(found := mood_frames(client)) >= FRAMES and found,
                             timeout=60, what="every frame's mood on the timeline")
        finally:
            codes = consumers.stop_all()
    assert {event["frame_id"] for event in returned} == {f"frame-{i}" for i in range(FRAMES)}
    assert moods == Counter({f"frame-{i}": 1 for i in range(FRAMES)}), "each frame once"
    published = [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]
    ids = {e.id for e in published if isinstance(e, MoodObserved)}
    assert len(ids) == FRAMES, "a repeat publishes the same ids"
    assert codes == {"timeline": 0}


def mood_frames(client: redis.Redis) -> Counter[str]:
    return Counter(e.frame_id for e in Timeline(client).events("Mia") if isinstance(e, MoodObserved))
