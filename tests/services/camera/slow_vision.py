"""A vision task that only the backpressure test loads: it records what it was given and
when it started, then takes its time, like a worker that cannot keep up."""

from __future__ import annotations

import json
import time
from typing import Any

from workers.base import CradleTask
from workers.celery_app import app

ANALYSED = "test:camera:analysed"
DELAY = "test:camera:delay"


@app.task(name="tests.camera.slow_analyse", base=CradleTask, bind=True)
def slow_analyse(self: CradleTask, frames: list[dict[str, Any]]) -> int:
    client = self.publisher.client
    record = {"started": time.time(), "frames": [[f["camera"], f["frame_id"]] for f in frames]}
    client.rpush(ANALYSED, json.dumps(record))
    time.sleep(float(client.get(DELAY) or 0.5))
    return len(frames)
