"""The event bus against a real Redis: round trip, crash recovery, duplicates, poison."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import redis

from services.bus.events import MoodObserved
from services.bus.streams import Publisher, Received, Subscriber
from services.redis_runtime import EmbeddedRedis
from services.settings.sections import BusSettings
from tests.conftest import ROOT, wait_for

BUS = BusSettings(claim_idle_ms=200, block_ms=50, max_deliveries=3)


def a_mood(**overrides: object) -> MoodObserved:
    fields: dict[str, object] = dict(
        frame_id="f1", camera="cot", child="Mia", mood="upset",
        probabilities={"upset": 0.8, "happy": 0.2}, model_version="t",
    )
    fields.update(overrides)
    return MoodObserved(**fields)  # type: ignore[arg-type]


def counting_subscriber(client: redis.Redis, consumer: str = "c1", group: str = "g",
                        batched: bool = False) -> Subscriber:
    def handler(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")

    return Subscriber(client, BUS, group, consumer, handler, batched=batched)


# The guarantees below hold whether a read is committed event by event or in one go.
either_commit = pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched"])


def drain(subscriber: Subscriber, rounds: int = 20) -> None:
    for _ in range(rounds):
        subscriber.poll()


@either_commit
def test_published_event_is_handled_once_and_acknowledged(client: redis.Redis, batched: bool) -> None:
    subscriber = counting_subscriber(client, batched=batched)
    event = a_mood()
    Publisher(client, BUS).publish(event)
    seen: list[MoodObserved] = []
    subscriber.handler = lambda d: (seen.append(d.event), d.effects.incr(f"effects:{d.event.id}"))  # type: ignore[func-returns-value,arg-type]
    drain(subscriber, 3)
    assert seen == [event]
    assert client.get(f"effects:{event.id}") == "1"
    assert client.xpending(BUS.stream, "g")["pending"] == 0


def test_every_group_gets_every_event(client: redis.Redis) -> None:
    alerts = counting_subscriber(client, group="alerts")
    timeline = counting_subscriber(client, group="timeline")
    event = a_mood()
    Publisher(client, BUS).publish(event)
    drain(alerts, 2)
    drain(timeline, 2)
    assert client.get(f"effects:{event.id}") == "2"


@either_commit
def test_same_event_published_twice_has_one_effect(client: redis.Redis, batched: bool) -> None:
    subscriber = counting_subscriber(client, batched=batched)
    event = a_mood()
    publisher = Publisher(client, BUS)
    publisher.publish(event)
    publisher.publish(event)
    drain(subscriber, 3)
    assert client.get(f"effects:{event.id}") == "1"
    assert subscriber.stats["duplicates"] == 1


def killed_while_handling(client: redis.Redis, redis_server: EmbeddedRedis) -> MoodObserved:
    """One event, published and left pending in group "g" by consumer "doomed", which was
    SIGKILLed inside its handler."""
    client.xgroup_create(BUS.stream, "g", id="0", mkstream=True)
    event = a_mood()
    Publisher(client, BUS).publish(event)
    doomed = subprocess.run(
        [sys.executable, "-m", "tests.services.bus.consumer_proc", redis_server.url, "g", "doomed", "die"],
        cwd=ROOT, timeout=60,
    )
    assert doomed.returncode == -9  # it really died inside the handler
    assert client.xpending(BUS.stream, "g")["pending"] == 1
    return event


def test_consumer_killed_before_ack_is_taken_over_with_one_effect(
    client: redis.Redis, redis_server: EmbeddedRedis
) -> None:
    event = killed_while_handling(client, redis_server)
    assert client.lrange("handled-by", 0, -1) == ["doomed"]
    assert client.get(f"effects:{event.id}") is None  # its queued effect never committed
    assert client.xpending(BUS.stream, "g")["pending"] == 1

    survivor = subprocess.Popen(
        [sys.executable, "-m", "tests.services.bus.consumer_proc", redis_server.url, "g", "survivor", "work"],
        cwd=ROOT,
    )
    try:
        wait_for(lambda: client.get(f"effects:{event.id}") == "1", what="the survivor to take over")
        wait_for(lambda: client.xpending(BUS.stream, "g")["pending"] == 0, what="the acknowledgement")
        time.sleep(0.5)  # give a wrong second delivery the time to show itself
    finally:
        survivor.kill()
        survivor.wait()
    assert client.get(f"effects:{event.id}") == "1"
    assert client.lrange("handled-by", 0, -1) == ["doomed", "survivor"]


def test_two_consumers_racing_on_one_event_commit_it_once(client: redis.Redis) -> None:
    event = a_mood()
    Publisher(client, BUS).publish(event)
    started = threading.Event()

    def slow(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        started.set()
        time.sleep(1.0)  # long enough for the other consumer to reclaim the entry

    slow_one = Subscriber(client, BUS, "g", "slow", slow)
    quick_one = counting_subscriber(client, consumer="quick")
    thread = threading.Thread(target=slow_one.poll)
    thread.start()
    started.wait(5)
    wait_for(lambda: quick_one.poll() > 0, timeout=5, what="the quick consumer to reclaim")
    thread.join()
    assert client.get(f"effects:{event.id}") == "1"
    assert slow_one.stats["duplicates"] == 1 and quick_one.stats["handled"] == 1


@either_commit
def test_event_that_keeps_failing_is_parked_after_max_deliveries(client: redis.Redis, batched: bool) -> None:
    attempts: list[int] = []

    def failing(received: Received) -> None:
        attempts.append(received.deliveries)
        raise RuntimeError("model exploded")

    subscriber = Subscriber(client, BUS, "g", "c1", failing, batched=batched)
    event = a_mood()
    Publisher(client, BUS).publish(event)
    later = a_mood(frame_id="f2")
    wait_for(
        lambda: (subscriber.poll(), client.xlen(BUS.dead_letter_stream))[1] == 1, timeout=10, what="parking"
    )
    assert attempts == [1, 2, 3]
    (_id, parked), = client.xrange(BUS.dead_letter_stream)
    assert parked["reason"] == "too many failed deliveries" and parked["deliveries"] == "4"
    assert json.loads(parked["event"])["id"] == event.id
    assert client.xpending(BUS.stream, "g")["pending"] == 0
    # the consumer lives on and handles what comes next
    subscriber.handler = counting_subscriber(client).handler
    Publisher(client, BUS).publish(later)
    drain(subscriber, 3)
    assert client.get(f"effects:{later.id}") == "1"


@either_commit
def test_malformed_entries_are_parked_at_once_and_the_consumer_goes_on(
    client: redis.Redis, batched: bool
) -> None:
    subscriber = counting_subscriber(client, batched=batched)
    good = json.loads(a_mood().model_dump_json())
    wrong_version = {**good, "id": "0123456789a", "schema_version": 9}
    missing = {k: v for k, v in good.items() if k != "mood"} | {"id": "0123456789b"}
    for fields in (
        {"type": "mood.observed", "event": "{not json"},
        {"type": "mood.observed", "event": json.dumps(wrong_version)},
        {"type": "mood.observed", "event": json.dumps(missing)},
        {"something": "else"},
    ):
        client.xadd(BUS.stream, fields)  # type: ignore[arg-type]
    event = a_mood()
    Publisher(client, BUS).publish(event)
    drain(subscriber, 3)
    reasons = [fields["reason"] for _id, fields in client.xrange(BUS.dead_letter_stream)]
    assert len(reasons) == 4
    assert "not JSON" in reasons[0] and "schema version 9" in reasons[1] and "mood" in reasons[2]
    assert "no 'event' field" in reasons[3]
    assert client.get(f"effects:{event.id}") == "1"
    assert client.xpending(BUS.stream, "g")["pending"] == 0


def test_stream_is_capped(client: redis.Redis) -> None:
    publisher = Publisher(client, BusSettings(maxlen=1_000))
    pipe = client.pipeline()
    for _ in range(5_000):
        pipe.xadd(BUS.stream, a_mood().to_fields(), maxlen=1_000, approximate=True)  # type: ignore[arg-type]
    pipe.execute()
    publisher.publish(a_mood())
    assert client.xlen(BUS.stream) < 2_000
