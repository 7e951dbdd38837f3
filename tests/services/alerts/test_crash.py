"""The alerts engine killed while handling the event that raises an alert: restarted, it
raises every alert exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis

from services.alerts.engine import memory_key
from services.alerts.state import AlertStore
from services.bus.events import AlertRaised, Event, parse_event, utcnow
from services.bus.streams import Publisher
from services.redis_runtime import EmbeddedRedis
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings
from tests.conftest import ROOT, wait_for
from tests.services.alerts.factories import hazard, moods

BUS = BusSettings()
RULES = AlertRules(upset_minutes=0.05, min_frames=3, caregivers=("Anna", "Ben"))


def engine(url: str, name: str, mode: str, commit: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.services.alerts.engine_proc", url, name, mode, RULES.model_dump_json(),
         commit],
        cwd=ROOT,
    )


def raised(client: redis.Redis) -> list[AlertRaised]:
    events: list[Event] = [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]
    return [e for e in events if isinstance(e, AlertRaised)]


@pytest.mark.parametrize("commit", ["one by one", "batched"])
def test_engine_killed_mid_handling_raises_each_alert_once(
    client: redis.Redis, redis_server: EmbeddedRedis, commit: str
) -> None:
    client.xgroup_create(BUS.stream, "alerts", id="0", mkstream=True)
    now = utcnow()
    start = now - timedelta(seconds=60)
    events: list[Event] = [*moods("hhh" + "u" * 10, start, every_s=1.0),
                           hazard(now - timedelta(seconds=5)), hazard(now - timedelta(seconds=4))]
    publisher = Publisher(client, BUS)
    for event in events:
        publisher.publish(event)

    for attempt in ("first", "second"):  # killed twice on the same event
        doomed = engine(redis_server.url, f"doomed-{attempt}", "die", commit)
        assert doomed.wait(60) == -9
    handled = client.lrange("handled-by", 0, -1)
    # The first died on the frame that tipped "upset"; the second took over what it had not
    # committed (that frame alone, or the whole read batched) and died on that frame too.
    first, second = (handled.count(f"doomed-{n}:mood.observed") for n in ("first", "second"))
    assert handled[-1] == "doomed-second:mood.observed"
    assert second == (first if commit == "batched" else 1) and first > 3
    assert raised(client) == [] and AlertStore(client).list() == []  # nothing of it committed

    survivor = engine(redis_server.url, "survivor", "work", commit)
    try:
        wait_for(lambda: len(raised(client)) == 2, timeout=30, what="both alerts")
        wait_for(lambda: client.xpending(BUS.stream, "alerts")["pending"] == 0, what="every ack")
        time.sleep(0.5)  # time for a wrong second alert to show itself
    finally:
        survivor.kill()
        survivor.wait()
    alerts = raised(client)
    assert sorted(a.kind for a in alerts) == ["hazard", "upset"]
    assert len({a.alert_id for a in alerts}) == 2
    records = AlertStore(client).list()
    assert sorted(r.id for r in records) == sorted(a.alert_id for a in alerts)
    assert client.zcard("cradle:alerts:escalations") == 1  # the urgent hazard, scheduled once
    assert client.exists(memory_key("Mia"))
