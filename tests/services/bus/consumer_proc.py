"""A consumer in its own process, for tests that kill one.

    python -m tests.services.bus.consumer_proc REDIS_URL GROUP CONSUMER MODE [batched]

MODE `die`: queue the effect, then SIGKILL itself before the commit; `die-at-N`: the same
in the handler's Nth call (the effects of the calls before are queued on the same read's
transaction when `batched`). MODE `work`: handle normally until stopped. The effect is
`INCR effects:<event id>`.
"""

from __future__ import annotations

import os
import signal
import sys

from services.bus.streams import Received, Subscriber
from services.redis_runtime import connect
from services.settings.sections import BusSettings


def main(url: str, group: str, consumer: str, mode: str, batched: bool) -> None:
    client = connect(url)
    die_at = int(mode.removeprefix("die-at-")) if mode.startswith("die-at-") else 1
    calls = [0]

    def handler(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        client.rpush("handled-by", consumer)
        calls[0] += 1
        if mode.startswith("die") and calls[0] == die_at:
            os.kill(os.getpid(), signal.SIGKILL)

    bus = BusSettings(claim_idle_ms=200, block_ms=100)
    Subscriber(client, bus, group, consumer, handler, batched=batched).run()


if __name__ == "__main__":
    url, group, consumer, mode = sys.argv[1:5]
    main(url, group, consumer, mode, batched=sys.argv[5:6] == ["batched"])
