"""Heartbeats: a dead consumer's entries move at once, a slow live one keeps its own.

XAUTOCLAIM's idle take-over is pushed out of reach (`claim_idle_ms` of a minute), so only
the heartbeat can move an entry here.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from pydantic import ValidationError

from services.bus import liveness
from services.bus.streams import Publisher, Received, Subscriber
from services.redis_runtime import EmbeddedRedis
from services.settings.sections import BusSettings
from tests.conftest import wait_for
from tests.services.bus.test_streams import a_mood, killed_while_handling

BUS = BusSettings(claim_idle_ms=60_000, block_ms=50)


def counting(client: redis.Redis, consumer: str, group: str = "g", **bus: int) -> Subscriber:
    def handler(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        client.rpush("handled-by", consumer)

    return Subscriber(client, BUS.model_copy(update=bus), group, consumer, handler)


def test_a_killed_consumers_entry_is_taken_over_within_2_s_by_a_newcomer(
    client: redis.Redis, redis_server: EmbeddedRedis
) -> None:
    event = killed_while_handling(client, redis_server)

    heir = counting(client, "heir")
    started = time.monotonic()
    wait_for(lambda: heir.poll() and client.get(f"effects:{event.id}"), timeout=10, interval=0,
             what="the newcomer to take over")
    took = time.monotonic() - started
    assert took < 2.0, f"took over after {took:.2f} s"
    assert client.get(f"effects:{event.id}") == "1"
    assert client.lrange("handled-by", 0, -1) == ["doomed", "heir"]
    assert client.xpending(BUS.stream, "g")["pending"] == 0
    assert [m.name for m in liveness.members(client, BUS, "g")] == ["heir"]  # the dead one left


def test_a_slow_live_consumer_keeps_its_entry_past_its_heartbeats_ttl(client: redis.Redis) -> None:
    event = a_mood()
    entered = threading.Event()

    def slow(received: Received) -> None:
        entered.set()
        time.sleep(1.5)  # three times the heartbeat's TTL below
        received.effects.incr(f"effects:{received.event.id}")
        client.rpush("handled-by", "slow")

    quick_bus = BUS.model_copy(update={"heartbeat_ttl_ms": 500, "heartbeat_every_ms": 100})
    slow_one = Subscriber(client, quick_bus, "g", "slow", slow)
    quick_one = counting(client, "quick", heartbeat_ttl_ms=500, heartbeat_every_ms=100)
    Publisher(client, BUS).publish(event)
    runner = threading.Thread(target=slow_one.run)
    runner.start()
    try:
        assert entered.wait(10)
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:  # the quick one looks for dead consumers all along
            quick_one.poll()
        assert client.lrange("handled-by", 0, -1) == []
        wait_for(lambda: client.get(f"effects:{event.id}") == "1", what="the slow handler")
    finally:
        slow_one.stop()
        runner.join(10)
    assert client.lrange("handled-by", 0, -1) == ["slow"]
    assert "slow" not in [m.name for m in liveness.members(client, BUS, "g")]  # it left cleanly


def test_groups_without_a_live_consumer_are_named(client: redis.Redis) -> None:
    bus = BUS.model_copy(update={"heartbeat_ttl_ms": 200, "heartbeat_every_ms": 50})
    alive = counting(client, "a1", group="alive", heartbeat_ttl_ms=200, heartbeat_every_ms=50)
    gone = counting(client, "g1", group="gone", heartbeat_ttl_ms=200, heartbeat_every_ms=50)
    alive.poll()
    gone.poll()
    assert liveness.groups_without_live_consumer(client, bus) == []
    time.sleep(0.3)  # g1 stops beating
    alive.poll()
    assert liveness.groups(client, bus) == ["alive", "gone"]
    assert liveness.groups_without_live_consumer(client, bus) == ["gone"]


def test_a_heartbeat_shorter_than_a_blocking_read_is_refused() -> None:
    with pytest.raises(ValidationError, match="must exceed block_ms"):
        BusSettings(block_ms=2_000, heartbeat_ttl_ms=1_500)
    with pytest.raises(ValidationError, match="twice heartbeat_every_ms"):
        BusSettings(heartbeat_every_ms=1_000, heartbeat_ttl_ms=1_500)
