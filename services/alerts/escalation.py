"""Time-driven alert work: escalating urgent alerts nobody acknowledged, and sending the
alerts held through quiet hours once they end.

An urgent alert first goes to the first caregiver on the list (`alerts.caregivers`);
each `escalate_after_s` without an acknowledgement it goes to the next one, in order,
until every caregiver has it, then to everyone ("*"). Info and warning alerts go to
everyone at once and never escalate.

`Escalator.tick()` does what is due now (by its injectable clock). Each step changes the
record, schedules the next step and publishes the event in one transaction that WATCHes
the record: an acknowledgement committed meanwhile wins, and two escalators running at
once take each step once.

Steps are due at wall-clock times. A clock that jumps forward makes the due steps fall due
together, one step per alert per `escalate_after_s`, never several at once; one that jumps
back would leave them due far ahead, so each tick brings any step due later than one
`escalate_after_s` from now back to that (no escalation waits out the jump).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import redis
from redis.client import Pipeline

from services.alerts.state import ESCALATIONS, HELD, AlertRecord, history_entry, history_key, record_key
from services.bus.events import AlertEscalated, AlertRaised, utcnow
from services.bus.streams import write_event
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings

log = logging.getLogger(__name__)
EVERYONE = "*"
Clock = Callable[[], datetime]
Step = Callable[[Pipeline, str, AlertRecord | None, datetime], bool]


def escalation_path(caregivers: Sequence[str]) -> list[tuple[str, ...]]:
    """Who an urgent alert goes to at each step: each caregiver in turn, then everyone."""
    steps = [(name,) for name in caregivers]
    return [*steps, (EVERYONE,)]


def first_recipients(severity: str, caregivers: Sequence[str]) -> list[str]:
    return list(escalation_path(caregivers)[0]) if severity == "urgent" else [EVERYONE]


def raised_event(record: AlertRecord) -> AlertRaised:
    # The event id is the alert id: consumers drop a second publication of one alert.
    return AlertRaised(
        id=record.id, occurred_at=record.raised_at, source="alerts", alert_id=record.id,
        child=record.child, kind=record.kind, severity=record.severity, reason=record.reason,
        frame_id=record.frame_id,
    )


class Escalator:
    def __init__(self, client: redis.Redis, rules: AlertRules, bus: BusSettings,
                 clock: Clock = utcnow) -> None:
        self.client = client
        self.rules = rules
        self.bus = bus
        self.clock = clock

    @property
    def after(self) -> timedelta:
        return timedelta(seconds=self.rules.escalate_after_s)

    def tick(self) -> list[str]:
        """Escalate and release what is due; returns the ids of the alerts that moved."""
        now = self.clock()
        latest = (now + self.after).timestamp()
        late = self.client.zrangebyscore(ESCALATIONS, f"({latest}", "+inf")
        if late:
            log.warning("clock went back: %d escalations due later than %s s from now, brought "
                        "forward", len(late), self.rules.escalate_after_s)
            self.client.zadd(ESCALATIONS, {str(alert_id): latest for alert_id in late}, xx=True, lt=True)
        moved = []
        steps: list[tuple[str, Step]] = [(ESCALATIONS, self._escalate), (HELD, self._release)]
        for queue, step in steps:
            for alert_id in self.client.zrangebyscore(queue, "-inf", now.timestamp()):
                if self._watched(str(alert_id), queue, now, step):
                    moved.append(str(alert_id))
        return moved

    def run(self, stop: threading.Event, every_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except redis.ConnectionError as exc:
                log.warning("escalation cannot reach Redis (%s); retrying", exc)
            stop.wait(every_s)

    def _watched(self, alert_id: str, queue: str, now: datetime, step: Step) -> bool:
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(record_key(alert_id))
                    raw = pipe.hgetall(record_key(alert_id))
                    due = pipe.zscore(queue, alert_id)
                    if due is None or due > now.timestamp():
                        pipe.reset()
                        return False  # another escalator took this step meanwhile
                    record = AlertRecord.from_hash(raw) if raw else None  # type: ignore[arg-type]
                    pipe.multi()
                    acted: bool = step(pipe, alert_id, record, now)
                    pipe.execute()
                    return acted
                except redis.WatchError:
                    continue

    def _escalate(self, pipe: Pipeline, alert_id: str, record: AlertRecord | None, now: datetime) -> bool:
        path = escalation_path(self.rules.caregivers)
        if record is None or record.state in ("acknowledged", "muted") or record.level + 1 >= len(path):
            pipe.zrem(ESCALATIONS, alert_id)
            return False
        level = record.level + 1
        new = [name for name in path[level] if name not in record.recipients]
        recipients = record.recipients + new
        pipe.hset(record_key(alert_id), mapping={
            "state": "escalated", "level": str(level), "recipients": json.dumps(recipients),
        })
        pipe.rpush(history_key(alert_id), history_entry("escalated", now, level=level, to=new))
        if level + 1 < len(path):
            pipe.zadd(ESCALATIONS, {alert_id: (now + self.after).timestamp()})
        else:
            pipe.zrem(ESCALATIONS, alert_id)
        write_event(pipe, self.bus, AlertEscalated(
            id=f"{alert_id}-e{level}", occurred_at=now, source="alerts", alert_id=alert_id,
            child=record.child, kind=record.kind, severity=record.severity, reason=record.reason,
            level=level, to=new, frame_id=record.frame_id,
        ))
        return True

    def _release(self, pipe: Pipeline, alert_id: str, record: AlertRecord | None, now: datetime) -> bool:
        pipe.zrem(HELD, alert_id)
        if record is None or record.state != "held":
            return False
        recipients = first_recipients(record.severity, self.rules.caregivers)
        pipe.hset(record_key(alert_id), mapping={"state": "raised", "recipients": json.dumps(recipients)})
        pipe.rpush(history_key(alert_id), history_entry("raised", now, after="quiet hours"))
        if record.severity == "urgent":
            pipe.zadd(ESCALATIONS, {alert_id: (now + self.after).timestamp()})
        released = record.model_copy(update={"raised_at": now})
        write_event(pipe, self.bus, raised_event(released))
        return True
