"""Redis SIGKILLed while the consumers work through a load, then started again on the same
append-only file: they reconnect by themselves, handle what they had read but not
committed, and lose or double nothing; the urgent alert, sent after the restart, is on time."""

from __future__ import annotations

import time
from pathlib import Path

from services.redis_runtime import EmbeddedRedis, connect
from tests.conftest import wait_for
from tests.faults.harness import (
    GROUPS,
    Consumers,
    add_users,
    assert_exactly_once,
    make_load,
    publish,
    settle,
    urgent_delivered,
    wait_beating,
)
from tests.services.delivery.fakes import FakePushService


def test_redis_killed_and_restarted_under_load(own_redis: EmbeddedRedis, tmp_path: Path) -> None:
    client = connect(own_redis.url)
    add_users(client)
    load = make_load(frames=30)
    cut = load.events.index(load.urgent) - 20  # the urgent sightings come after the restart
    with FakePushService() as push:
        consumers = Consumers(own_redis.url, tmp_path, push)
        try:
            consumers.start_all()
            for group in GROUPS:
                wait_beating(client, group, besides=set())
            publish(client, load.events[:cut])
            assert own_redis.process is not None
            own_redis.process.kill()  # SIGKILL: no last write to the append-only file
            own_redis.process.wait()
            time.sleep(1.0)  # every consumer notices
            own_redis.start()
            publish(client, load.events[cut:])
            back = time.monotonic()
            wait_for(lambda: urgent_delivered(client, load), timeout=30, interval=0.02,
                     what="the urgent alert")
            late = time.monotonic() - back
            tally = settle(client, load, push, consumers)
        finally:
            codes = consumers.stop_all()
            client.close()
    assert late < 5.0, f"the urgent alert reached anna {late:.2f} s after its sighting"
    assert_exactly_once(tally, load)
    assert codes == dict.fromkeys(codes, 0)
