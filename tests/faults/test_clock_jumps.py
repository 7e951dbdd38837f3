"""The alerts engine's clock jumps an hour forward, then five minutes back, while it runs
(the offset file of tests/faults/consumer.py; the camera's events carry the jumped time, as
they would from workers on the same machine).

Forward: the urgent alert due to escalate escalates one step, not every step at once, and
a new hazard is an alert (its cooldown has passed). Back: a new hazard is still an alert
(the last one is "in the future", which must not silence the kind), and escalations that
now look five minutes away happen after `escalate_after_s`, not five minutes late. Every
alert and every escalation once; every send once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import redis

from services.alerts.engine import alert_id_for
from services.alerts.state import AlertStore
from services.bus.events import AlertEscalated, AlertRaised, Event, parse_event, utcnow
from services.redis_runtime import EmbeddedRedis
from tests.conftest import wait_for
from tests.faults.harness import BUS, KIND, URGENT, Consumers, add_users, publish, wait_beating
from tests.services.alerts.factories import hazard
from tests.services.delivery.fakes import FakePushService

STEP_S = 5  # escalate_after_s: the smallest the rules allow


def sightings(offset_s: float, tag: str) -> tuple[list[Event], str]:
    """Two sightings of the urgent hazard at the jumped clock's now; the alert they raise."""
    at = utcnow() + timedelta(seconds=offset_s)
    pair = [hazard(at - timedelta(seconds=1 - i), KIND, "urgent", URGENT).model_copy(
        update={"frame_id": f"{tag}-{i}"}) for i in range(2)]
    return list(pair), alert_id_for(pair[1], f"hazard:{KIND}")


def events(client: redis.Redis) -> list[Event]:
    return [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]


def escalations(client: redis.Redis) -> Counter[tuple[str, int]]:
    return Counter((e.alert_id, e.level) for e in events(client) if isinstance(e, AlertEscalated))


def level(client: redis.Redis, alert_id: str) -> int:
    record = AlertStore(client).get(alert_id)
    return record.level if record else -1


def test_clock_jumping_forward_and_back_loses_and_doubles_no_alert(
    client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    add_users(client)
    clock = tmp_path / "clock-offset"
    clock.write_text("0")
    with FakePushService() as push:
        consumers = Consumers(redis_server.url, tmp_path, push, CRADLE_ALERTS__ESCALATE_AFTER_S=str(STEP_S))
        try:
            consumers.start("alerts", FAULT_CLOCK_FILE=str(clock))
            consumers.start("delivery")
            for group in ("alerts", "delivery"):
                wait_beating(client, group, besides=set())
            first, a1 = sightings(0, "before")
            publish(client, first)
            wait_for(lambda: level(client, a1) == 0, what="the first alert")

            clock.write_text("3600")  # an hour forward
            jumped = time.monotonic()
            wait_for(lambda: level(client, a1) == 1, timeout=10, what="the due escalation")
            assert time.monotonic() - jumped < 3.0
            second, a2 = sightings(3600, "after")
            publish(client, second)
            wait_for(lambda: level(client, a2) == 0, what="the alert after the jump")
            assert level(client, a1) == 1, "one step, not every step at once"

            clock.write_text("3300")  # five minutes back
            back = time.monotonic()
            third, a3 = sightings(3300, "back")
            publish(client, third)
            wait_for(lambda: level(client, a3) == 0, timeout=10, what="the alert after going back")
            wait_for(lambda: level(client, a1) == 2 and level(client, a2) == 1, timeout=30,
                     what="the escalations due when the clock went back")
            late = time.monotonic() - back
            wait_for(lambda: {a for a, _l in escalations(client)} >= {a1, a2}, what="the escalation events")
            wait_for(lambda: sum(push.answered.values()) >= len(push.bodies) and len(push.bodies) >= 5,
                     what="the sends")
            time.sleep(1.0)  # time for a wrong repeat
        finally:
            codes = consumers.stop_all()
    assert late < 2 * STEP_S, f"escalated {late:.1f} s after the clock went back"
    raised = Counter(e.alert_id for e in events(client) if isinstance(e, AlertRaised))
    assert raised == Counter({a1: 1, a2: 1, a3: 1})
    steps = escalations(client)
    assert set(steps.values()) == {1}, steps
    assert {(a1, 1), (a1, 2), (a2, 1)} <= set(steps) <= {(a1, 1), (a1, 2), (a2, 1), (a2, 2), (a3, 1)}
    store = AlertStore(client)
    sent = Counter(path.strip("/") for path, _body in list(push.bodies))
    recorded = Counter(key.split("|")[0] for a in (a1, a2, a3) for key in store.deliveries(a)
                       if key.endswith("|apprise"))
    assert sent == recorded, "each user got each alert once"
    assert recorded["anna"] == 3 and recorded["ben"] >= 2
    assert json.loads(json.dumps(codes)) == dict.fromkeys(codes, 0)
