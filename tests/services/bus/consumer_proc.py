"""A consumer in its own process, for tests that kill one.

    python -m tests.services.bus.consumer_proc REDIS_URL GROUP CONSUMER MODE

MODE `die`: queue the effect, then SIGKILL itself before the commit. MODE `work`: handle
normally until stopped. The effect is `INCR effects:<event id>`.
"""

from __future__ import annotations

import os
import signal
import sys

from services.bus.streams import Received, Subscriber
from services.redis_runtime import connect
from services.settings.sections import BusSettings


def main(url: str, group: str, consumer: str, mode: str) -> None:
    client = connect(url)

    def handler(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        client.rpush("handled-by", consumer)
        if mode == "die":
            os.kill(os.getpid(), signal.SIGKILL)

    subscriber = Subscriber(client, BusSettings(claim_idle_ms=200, block_ms=100), group, consumer, handler)
    subscriber.run()


if __name__ == "__main__":
    main(*sys.argv[1:5])
