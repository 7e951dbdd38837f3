"""The batched commit against a real Redis: one transaction a read, exactly once per event.

The rule a read follows is pure (which events take effect, which entries stay pending),
so hypothesis checks both ways of committing, batched and event by event, against it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.bus.events import MoodObserved
from services.bus.streams import Publisher, Received, Subscriber
from services.redis_runtime import EmbeddedRedis, connect
from services.settings.sections import BusSettings
from tests.conftest import ROOT, wait_for
from tests.services.bus.test_streams import a_mood

BUS = BusSettings(claim_idle_ms=200, block_ms=50, max_deliveries=3)
# For one read and its rule alone: nothing refused is retried, however slow the machine.
ONE_READ = BUS.model_copy(update={"claim_idle_ms": 60_000})


@dataclass(frozen=True)
class Entry:
    """One entry of a read: an event (`which` of a few ids, so ids repeat) whose handler
    fails or not, or a malformed entry."""

    which: int | None  # None: malformed
    fails: bool = False


entries = st.lists(
    st.builds(Entry, st.none() | st.integers(0, 4), st.booleans()), min_size=1, max_size=12
)


def expected(read: list[Entry], handled_before: set[int]) -> tuple[list[int], list[int]]:
    """The rule: the events that take effect, in order, and the positions left pending.
    A malformed entry is parked; an event handled before (by an earlier read, or earlier
    in this one) is a duplicate; one whose handler fails stays pending for a retry."""
    handled, effects, pending = set(handled_before), [], []
    for position, entry in enumerate(read):
        if entry.which is None or entry.which in handled:
            continue
        if entry.fails:
            pending.append(position)
            continue
        handled.add(entry.which)
        effects.append(entry.which)
    return effects, pending


@pytest.fixture
def fresh(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client on the session's Redis; each hypothesis example empties it itself."""
    connection = connect(redis_server.url)
    yield connection
    connection.close()


@examples(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(read=entries, handled_before=st.sets(st.integers(0, 4)))
def test_a_read_follows_the_rule_batched_or_event_by_event(
    fresh: redis.Redis, read: list[Entry], handled_before: set[int]
) -> None:
    fresh.flushdb()
    moods = [a_mood(id=f"event-{which:04d}") for which in range(5)]
    positions: dict[str, int] = {}
    for position, entry in enumerate(read):
        fields = moods[entry.which].to_fields() if entry.which is not None else {"event": "{oops"}
        positions[str(fresh.xadd(BUS.stream, fields))] = position  # type: ignore[arg-type]
    want_effects, want_pending = expected(read, handled_before)
    for group, batched in (("one-by-one", False), ("batched", True)):
        notes: list[tuple[str, ...]] = []  # what each handler that took effect found in `shared`

        def handler(received: Received, group: str = group, notes: list[tuple[str, ...]] = notes) -> None:
            received.effects.rpush(f"effects:{group}", received.event.id)
            seen = received.shared.get("seen", ())
            received.shared["seen"] = (*seen, received.event.id)
            if received.entry_id in positions and read[positions[received.entry_id]].fails:
                raise RuntimeError("refused")  # after queuing and noting: both must go
            notes.append(seen)

        subscriber = Subscriber(fresh, ONE_READ, group, "c1", handler, batched=batched)
        for which in handled_before:  # committed earlier, the acknowledgement lost
            fresh.set(subscriber._done_key(moods[which].id), "0-1")
        assert subscriber.poll() == len(read)
        assert fresh.lrange(f"effects:{group}", 0, -1) == [moods[w].id for w in want_effects], group
        pending: list[dict[str, str]] = fresh.xpending_range(BUS.stream, group, min="-", max="+", count=100)  # type: ignore[assignment]
        assert sorted(positions[p["message_id"]] for p in pending) == want_pending, group
        dead: list[tuple[str, dict[str, str]]] = fresh.xrange(BUS.dead_letter_stream)  # type: ignore[assignment]
        parked = [f for _id, f in dead if f["group"] == group]
        assert len(parked) == sum(entry.which is None for entry in read), group
        assert subscriber.stats["handled"] == len(want_effects)
        assert subscriber.stats["failed"] == len(want_pending)
        # Notes are shared by the events committed together, and a refused handler's are dropped.
        ids = [moods[w].id for w in want_effects]
        assert notes == [tuple(ids[:n]) if batched else () for n in range(len(ids))], group
    # Published again later, what took effect is remembered by both as handled.
    for which in want_effects:
        fresh.xadd(BUS.stream, moods[which].to_fields())  # type: ignore[arg-type]
    def again(received: Received) -> None:
        fresh.rpush("handled again", received.event.id)

    for group, batched in (("one-by-one", False), ("batched", True)):
        assert Subscriber(fresh, ONE_READ, group, "c2", again, batched=batched).poll() == len(want_effects)
        assert fresh.lrange("handled again", 0, -1) == [], group


def test_a_handler_failing_mid_batch_commits_the_others_and_its_event_is_retried(client: redis.Redis) -> None:
    events = [a_mood(frame_id=f"f{i}") for i in range(5)]
    refused = events[2]
    tries: list[int] = []

    def handler(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        if received.event.id == refused.id:
            tries.append(received.deliveries)
            if received.deliveries == 1:
                raise RuntimeError("not yet")

    subscriber = Subscriber(client, BUS, "g", "c1", handler, batched=True)
    publisher = Publisher(client, BUS)
    for event in events:
        publisher.publish(event)
    assert subscriber.poll() == 5
    assert [client.get(f"effects:{e.id}") for e in events] == ["1", "1", None, "1", "1"]
    assert client.xpending(BUS.stream, "g")["pending"] == 1
    wait_for(lambda: subscriber.poll() and client.get(f"effects:{refused.id}"), timeout=5,
             what="the refused event to be retried")
    assert tries == [1, 2]
    assert [client.get(f"effects:{e.id}") for e in events] == ["1"] * 5
    assert client.xpending(BUS.stream, "g")["pending"] == 0


@pytest.mark.parametrize("taken", [1, 4])
def test_two_consumers_racing_on_one_read_commit_each_event_once(client: redis.Redis, taken: int) -> None:
    """The slow consumer's read of 4 is taken over, `taken` entries of it, and committed by
    the quick one while the slow one's handlers run: the slow one's EXEC is refused, and
    it then commits event by event what the quick one did not."""
    events = [a_mood(frame_id=f"f{i}") for i in range(4)]
    for event in events:
        Publisher(client, BUS).publish(event)
    started = threading.Event()

    def slow(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")
        started.set()
        if received.event.id == events[0].id and received.deliveries == 1:
            time.sleep(1.0)  # long enough for the quick consumer to reclaim

    def quick(received: Received) -> None:
        received.effects.incr(f"effects:{received.event.id}")

    slow_one = Subscriber(client, BUS, "g", "slow", slow, batched=True)
    quick_one = Subscriber(client, BUS.model_copy(update={"batch": taken}), "g", "quick", quick, batched=True)
    thread = threading.Thread(target=slow_one.poll)
    thread.start()
    started.wait(5)
    wait_for(lambda: quick_one.poll() > 0, timeout=5, what="the quick consumer to reclaim")
    thread.join()
    assert [client.get(f"effects:{e.id}") for e in events] == ["1"] * 4
    assert quick_one.stats["handled"] == taken
    assert slow_one.stats == {"handled": 4 - taken, "duplicates": taken, "failed": 0, "parked": 0}
    assert client.xpending(BUS.stream, "g")["pending"] == 0


def test_a_consumer_killed_mid_batch_leaves_nothing_and_the_heir_commits_all_once(
    client: redis.Redis, redis_server: EmbeddedRedis
) -> None:
    client.xgroup_create(BUS.stream, "g", id="0", mkstream=True)
    events = [a_mood(frame_id=f"f{i}") for i in range(5)]
    for event in events:
        Publisher(client, BUS).publish(event)
    proc = [sys.executable, "-m", "tests.services.bus.consumer_proc", redis_server.url, "g"]
    doomed = subprocess.run([*proc, "doomed", "die-at-3", "batched"], cwd=ROOT, timeout=60)
    assert doomed.returncode == -9  # killed in its third handler, two effects queued
    assert client.lrange("handled-by", 0, -1) == ["doomed"] * 3
    assert [client.get(f"effects:{e.id}") for e in events] == [None] * 5
    assert client.xpending(BUS.stream, "g")["pending"] == 5

    heir = subprocess.Popen([*proc, "heir", "work", "batched"], cwd=ROOT)
    try:
        wait_for(lambda: client.xpending(BUS.stream, "g")["pending"] == 0, what="the heir to take over")
        time.sleep(0.5)  # give a wrong second delivery the time to show itself
    finally:
        heir.kill()
        heir.wait()
    assert [client.get(f"effects:{e.id}") for e in events] == ["1"] * 5


def test_a_mark_left_by_a_commit_whose_ack_was_lost_skips_the_event(client: redis.Redis) -> None:
    event = a_mood()
    seen: list[MoodObserved] = []
    subscriber = Subscriber(client, BUS, "g", "c1", lambda r: seen.append(r.event), batched=True)  # type: ignore[arg-type]
    client.set(subscriber._done_key(event.id), "0-1")
    Publisher(client, BUS).publish(event)
    fresh_one = a_mood(frame_id="f2")
    Publisher(client, BUS).publish(fresh_one)
    assert subscriber.poll() == 2
    assert seen == [fresh_one]
    assert subscriber.stats["duplicates"] == 1
    assert client.xpending(BUS.stream, "g")["pending"] == 0
