"""The alerts engine in its own process, for tests that kill it.

    python -m tests.services.alerts.engine_proc REDIS_URL CONSUMER MODE RULES_JSON [batched]

MODE `die`: SIGKILL itself inside the handler of the first event that raises an alert,
after the engine queued all its writes and before they commit. MODE `work`: handle
events until killed. `batched`: commit each read together, as `python -m services.alerts`
does.
"""

from __future__ import annotations

import os
import signal
import sys

from services.alerts.engine import AlertEngine
from services.bus.streams import Received, Subscriber
from services.redis_runtime import connect
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings

BUS = BusSettings(claim_idle_ms=200, block_ms=100)


def main(url: str, consumer: str, mode: str, rules_json: str, commit: str = "one by one") -> None:
    client = connect(url)
    engine = AlertEngine(client, AlertRules.model_validate_json(rules_json), BUS)

    def handler(received: Received) -> None:
        engine(received)
        queued = [args[0] for args, _options in received.effects.command_stack]
        client.rpush("handled-by", f"{consumer}:{received.event.type}")  # type: ignore[attr-defined]
        if mode == "die" and "XADD" in queued:
            os.kill(os.getpid(), signal.SIGKILL)

    Subscriber(client, BUS, "alerts", consumer, handler, batched=commit == "batched").run()


if __name__ == "__main__":
    main(*sys.argv[1:6])
