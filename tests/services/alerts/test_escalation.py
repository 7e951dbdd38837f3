"""Escalation with a clock the test moves: each caregiver in turn, then everyone; an
acknowledgement stops it for all."""

from __future__ import annotations

import threading
from datetime import timedelta

import redis

from services.alerts.escalation import Escalator, escalation_path
from services.alerts.state import AlertStore
from services.bus.events import AlertEscalated, Event, parse_event
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings
from tests.services.alerts.factories import DAY, Clock, hazard
from tests.services.alerts.test_engine import run

BUS = BusSettings(claim_idle_ms=200, block_ms=20)
RULES = AlertRules(caregivers=("Anna", "Ben", "Cleo"), escalate_after_s=120)


def escalations(client: redis.Redis) -> list[AlertEscalated]:
    events: list[Event] = [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]
    return [e for e in events if isinstance(e, AlertEscalated)]


def urgent_alert(client: redis.Redis, clock: Clock) -> str:
    run(client, clock, [hazard(DAY), hazard(DAY + timedelta(seconds=2))], RULES)
    (record,) = AlertStore(client).list()
    assert record.severity == "urgent" and record.recipients == ["Anna"]
    return record.id


def test_path_is_each_caregiver_in_turn_then_everyone() -> None:
    assert escalation_path(["Anna", "Ben", "Cleo"]) == [("Anna",), ("Ben",), ("Cleo",), ("*",)]
    fifty = [f"carer{i}" for i in range(50)]  # as many as alerts.caregivers allows
    assert escalation_path(fifty) == [*((name,) for name in fifty), ("*",)]
    assert escalation_path(["Anna"]) == [("Anna",), ("*",)]
    assert escalation_path([]) == [("*",)]


def test_unacknowledged_urgent_alert_escalates_on_time(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    escalator = Escalator(client, RULES, BUS, clock)
    raised_at = clock.now
    clock.now = raised_at + timedelta(seconds=119)
    assert escalator.tick() == []
    clock.now = raised_at + timedelta(seconds=120)
    assert escalator.tick() == [alert_id]
    assert escalator.tick() == []  # the next step is 120 s away
    clock.advance(119)
    assert escalator.tick() == []
    clock.advance(1)
    assert escalator.tick() == [alert_id]
    clock.advance(120)
    assert escalator.tick() == [alert_id]
    clock.advance(3600)
    assert escalator.tick() == []  # everyone has it: nothing further
    assert [(e.level, e.to) for e in escalations(client)] == [(1, ["Ben"]), (2, ["Cleo"]), (3, ["*"])]
    record = AlertStore(client).get(alert_id)
    assert record is not None and record.state == "escalated"
    assert record.recipients == ["Anna", "Ben", "Cleo", "*"]
    assert [h["state"] for h in AlertStore(client).history(alert_id)] == ["raised", *["escalated"] * 3]


def test_acknowledging_stops_escalation_for_everyone(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    escalator = Escalator(client, RULES, BUS, clock)
    clock.advance(120)
    assert escalator.tick() == [alert_id]
    assert AlertStore(client).acknowledge(alert_id, "Ben", clock.advance(5)) == 1
    clock.advance(3600)
    assert escalator.tick() == []
    assert len(escalations(client)) == 1
    record = AlertStore(client).get(alert_id)
    assert record is not None and record.state == "acknowledged" and record.acknowledged_by == "Ben"
    assert AlertStore(client).acknowledge("no-such-alert", "Ben", clock()) == -1


def test_acknowledged_before_the_first_step_never_escalates(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    AlertStore(client).acknowledge(alert_id, "Anna", clock.advance(30))
    clock.advance(10_000)
    assert Escalator(client, RULES, BUS, clock).tick() == [] and escalations(client) == []


def test_delivery_recorded_once_per_user_and_channel(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    store = AlertStore(client)
    assert store.mark_delivered(alert_id, "Anna", "webpush", clock())
    assert not store.mark_delivered(alert_id, "Anna", "webpush", clock())
    assert store.mark_delivered(alert_id, "Anna", "ntfy", clock())
    assert store.get(alert_id).state == "delivered"  # type: ignore[union-attr]
    assert set(store.deliveries(alert_id)) == {"Anna|webpush", "Anna|ntfy"}
    assert not store.mark_delivered("no-such-alert", "Anna", "webpush", clock())


def test_two_escalators_at_once_take_each_step_once(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    clock.advance(121)
    moved: list[list[str]] = []
    escalators = [Escalator(client, RULES, BUS, clock) for _ in range(4)]
    threads = [threading.Thread(target=lambda e=e: moved.append(e.tick())) for e in escalators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(moved) == [[], [], [], [alert_id]]
    assert len(escalations(client)) == 1
