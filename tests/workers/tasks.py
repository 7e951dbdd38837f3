"""Tasks only the tests load (CRADLE_CELERY__EXTRA_INCLUDE), to kill a worker mid-task."""

from __future__ import annotations

import os
import time

from workers.base import CradleTask
from workers.celery_app import app


@app.task(name="tests.hold", base=CradleTask, bind=True)
def hold(self: CradleTask, key: str, seconds: float) -> dict[str, int]:
    """The first attempt records its pid and waits to be killed; later ones finish."""
    client = self.publisher.client
    attempt = int(client.incr(f"{key}:attempts"))
    client.rpush(f"{key}:pids", os.getpid())
    if attempt == 1:
        time.sleep(seconds)
    client.incr(f"{key}:finished")
    return {"attempt": attempt, "pid": os.getpid()}
