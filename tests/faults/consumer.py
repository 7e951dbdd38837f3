"""A real bus consumer process (`services.timeline`, `services.alerts`, `services.delivery`:
the same `make` and `run_consumer`) with two faults a test can switch on:

    python -m tests.faults.consumer GROUP

FAULT_DIE_ON=EVENT_ID: SIGKILL itself inside the handler of that event, after the handler
queued its writes and before they commit. FAULT_CLOCK_FILE=PATH (alerts only): the engine
and the escalator read the time as the real time plus the seconds written in PATH, read
again at every look, so a test can jump the clock while the process runs.

(Debian's libfaketime 0.9.10 cannot do the clock here: Python 3.11's time.sleep uses
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which it breaks, libfaketime issue #426.)
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import redis

from services.alerts.__main__ import make as alerts
from services.bus.events import utcnow
from services.bus.runner import SideJob, run_consumer
from services.bus.streams import Handler, Received
from services.delivery.__main__ import make as delivery
from services.settings import Settings
from services.timeline.__main__ import make as timeline

Make = Callable[[Settings, redis.Redis], tuple[Handler, list[SideJob]]]


def shifted_clock(path: Path) -> Callable[[], datetime]:
    def now() -> datetime:
        try:
            offset = float(path.read_text() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return utcnow() + timedelta(seconds=offset)

    return now


def dying(make: Make, event_id: str) -> Make:
    def made(settings: Settings, client: redis.Redis) -> tuple[Handler, list[SideJob]]:
        handler, side_jobs = make(settings, client)

        def handle(received: Received) -> None:
            handler(received)
            if received.event.id == event_id:
                os.kill(os.getpid(), signal.SIGKILL)

        return handle, side_jobs

    return made


def main(group: str) -> None:
    makers: dict[str, Make] = {"timeline": timeline, "alerts": alerts, "delivery": delivery}
    make = makers[group]
    if clock_file := os.environ.get("FAULT_CLOCK_FILE"):
        make = partial(alerts, clock=shifted_clock(Path(clock_file)))
    if event_id := os.environ.get("FAULT_DIE_ON"):
        make = dying(make, event_id)
    run_consumer(group, make)


if __name__ == "__main__":
    main(sys.argv[1])
