"""`workers.health.ping`: proves the wiring from a sender through Redis to a worker and back."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from services import tasks
from workers.base import CradleTask
from workers.celery_app import app


@app.task(name=tasks.PING, base=CradleTask, bind=True)
def ping(self: CradleTask) -> dict[str, object]:
    return {
        "pong": True,
        "worker": self.request.hostname or socket.gethostname(),
        "pid": os.getpid(),
        "at": datetime.now(UTC).isoformat(),
    }
