"""Each bus consumer SIGKILLed while it handles the urgent hazard, under a load of other
events, and started again as a new process: nothing lost, nothing doubled, and the urgent
alert delivered within 2 s of the new consumer's start (it takes the dead one's pending
events over as soon as it finds its heartbeat gone)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from services.redis_runtime import EmbeddedRedis
from tests.faults.harness import (
    Consumers,
    Tally,
    add_users,
    assert_exactly_once,
    beating,
    make_load,
    publish,
    settle,
    urgent_delivered,
    wait_beating,
)
from tests.services.delivery.fakes import FakePushService


@pytest.mark.parametrize("group", ["timeline", "alerts", "delivery"])
def test_consumer_killed_mid_work_loses_and_doubles_nothing(
    group: str, client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    add_users(client)
    load = make_load()
    # The event the doomed consumer dies on: the urgent sighting, or for delivery the alert it raised.
    die_on = load.urgent_alert if group == "delivery" else load.urgent.id
    with FakePushService() as push:
        consumers = Consumers(redis_server.url, tmp_path, push)
        try:
            consumers.start_all(**{group: {"FAULT_DIE_ON": die_on}})
            doomed = consumers.running[group]
            publish(client, load.events)
            assert doomed.wait(60) == -9, consumers.log_tail()
            dead = beating(client, group)  # its heartbeat still runs for a moment
            time.sleep(0.3)  # what it had sent reaches the push service's count
            before = Tally.of(client, load, push)
            confirmed = {(a, u) for a, u, channel in before.recorded if channel == "apprise"}
            resent = sum(before.pushed.values()) - len(confirmed)

            consumers.start(group)
            up = wait_beating(client, group, besides=dead)
            while not urgent_delivered(client, load) and time.monotonic() - up < 10:
                time.sleep(0.02)
            late = time.monotonic() - up
            tally = settle(client, load, push, consumers)
        finally:
            codes = consumers.stop_all()
    assert late < 2.0, f"the urgent alert reached anna {late:.2f} s after the restart"
    assert_exactly_once(tally, load, resent=resent)
    assert codes == dict.fromkeys(codes, 0)
