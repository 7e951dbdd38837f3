"""Running one bus consumer as a process: settings, JSON logs, signals, side threads.

`python -m services.alerts` and `python -m services.timeline` are built on this.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import redis

from services import logs
from services.bus.streams import Handler, Subscriber
from services.redis_runtime import connect
from services.settings import Settings, SettingsError, get_settings

log = logging.getLogger(__name__)
SideJob = Callable[[threading.Event], None]


def run_consumer(
    group: str, make: Callable[[Settings, redis.Redis], tuple[Handler, list[SideJob]]], *,
    batched: bool = False,
) -> None:
    """Consume the event stream as one member of `group` until SIGTERM or SIGINT.

    `make` builds the handler and any side jobs (each runs in a thread with a stop event).
    `batched`: commit each read in one transaction, for a handler whose reads do not
    depend on its own effects (services/bus/streams.py says when that holds).
    """
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    if not settings.redis.url:
        sys.exit(f"the {group} consumer needs CRADLE_REDIS__URL; start it with 'cradle up'")
    logs.configure(settings.gateway.log_level)
    client = connect(settings.redis.url, settings)
    handler, side_jobs = make(settings, client)
    # A name of its own for each start: a container restarted with the same host name and
    # pid is a new consumer, which finds its former self dead by its silent heartbeat.
    consumer = f"{group}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    subscriber = Subscriber(client, settings.bus, group, consumer, handler, batched=batched)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()
        subscriber.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = [threading.Thread(target=job, args=(stop,), daemon=True) for job in side_jobs]
    for thread in threads:
        thread.start()
    subscriber.run()
    for thread in threads:
        thread.join(timeout=5)
    log.info("%s stopped: %s", consumer, subscriber.stats)
