"""The alerts engine: the bus handler of group "alerts".

For each event about a child it reads the child's rule memory and the mutes, asks the
rules (rules.py) what alerts the event calls for, and queues every write on the
received event's transaction: the new memory, each alert record, the AlertRaised event,
the escalation or quiet-hours schedule. They commit with the bus's "handled" mark, so a
crash mid-handling leaves no trace and the redelivery raises the same alert (its id is
derived from the event's id) exactly once.

The engine runs batched (services/bus/streams.py): a read's events commit in one
transaction, so the memory an event leaves is not in Redis yet when the next event of
the same child in that read is judged; the engine keeps it in the transaction's
`Received.shared` and reads it there first. The mutes are read once a transaction.

Run one consumer in this group: the rules follow each child's frames in order, and two
consumers would read and write one child's memory at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import redis

from services.alerts.escalation import escalation_path, first_recipients, raised_event
from services.alerts.rules import Memory, Mute, Verdict, judge
from services.alerts.state import (
    ESCALATIONS,
    HELD,
    MUTES,
    PREFIX,
    AlertRecord,
    AlertStore,
    Mutes,
    active_mutes,
)
from services.bus.events import (
    AlertAcknowledged,
    CameraOffline,
    CaptionObserved,
    Event,
    HazardDetected,
    ModelPromoted,
    MoodObserved,
    utcnow,
)
from services.bus.streams import Received, write_event
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings, FamilySettings, RunSettings

log = logging.getLogger(__name__)
WATCHED = (MoodObserved, CaptionObserved, HazardDetected, CameraOffline, ModelPromoted)
MEMORY_TTL_S = 2 * 24 * 3600  # a child unseen for two days starts afresh


def memory_key(child: str) -> str:
    return f"{PREFIX}:memory:{child}"


def alert_id_for(event: Event, key: str) -> str:
    """One event and one rule make one alert, whatever the number of deliveries."""
    return hashlib.sha256(f"{event.id}:{key}".encode()).hexdigest()[:32]


class AlertEngine:
    """`Subscriber(client, bus, "alerts", name, AlertEngine(client, rules, bus, family=..., runs=...),
    batched=True)`."""

    def __init__(self, client: redis.Redis, rules: AlertRules, bus: BusSettings,
                 clock: Callable[[], datetime] = utcnow, rooms: Mapping[str, str] | None = None,
                 family: FamilySettings | None = None, runs: RunSettings | None = None,
                 names: Callable[[], Mapping[str, str]] | None = None) -> None:
        self.client = client
        self.rules = rules
        self.family = family or FamilySettings()  # the time zone and the night
        self.runs = runs or RunSettings()  # mood runs, as the timeline reads them
        self.rooms = dict(rooms or {})  # camera -> the room it watches, for the words of a notice
        self.names = names  # child id -> the family's name for them, read for each notice (edits count)
        self.bus = bus
        self.clock = clock
        self.store = AlertStore(client, rules.retention_days)
        self.mutes = Mutes(client)

    def memory(self, child: str, shared: dict[str, Any] | None = None) -> Memory:
        """The child's rule memory as the transaction's earlier events left it (`shared`,
        see the module), else as stored."""
        key = memory_key(child)
        raw = (shared or {}).get(key)
        if raw is None:
            raw = self.client.get(key)
        if raw is None:
            return Memory.fresh(self.runs)
        return Memory.from_dict(json.loads(str(raw)), self.runs)

    def _mutes(self, shared: dict[str, Any]) -> tuple[Mute, ...]:
        """Every mute, read once a transaction (the chatbot sets them, not this engine)."""
        if MUTES not in shared:
            shared[MUTES] = self.mutes.all()
        mutes: tuple[Mute, ...] = shared[MUTES]
        return mutes

    def __call__(self, received: Received) -> None:
        event = received.event
        if isinstance(event, AlertAcknowledged):
            self.store.acknowledge(event.alert_id, event.by, event.occurred_at, received.effects)
            return
        if not isinstance(event, WATCHED):
            return
        memory = self.memory(event.child, received.shared)
        age = self.clock() - event.occurred_at
        fresh = age <= timedelta(seconds=self.rules.max_event_age_s)
        if not fresh:
            log.info("event %s is %s old: remembered, no alert", event.id, age)
        mutes = active_mutes(self._mutes(received.shared), event.child, event.occurred_at)
        verdicts = judge(memory, event, self.rules, mutes, fresh, self.rooms, self.family, self.names)
        remembered = json.dumps(memory.to_dict())
        received.effects.set(memory_key(event.child), remembered, ex=MEMORY_TTL_S)
        for verdict in verdicts:
            self._record(received, verdict)
        received.shared[memory_key(event.child)] = remembered

    def _record(self, received: Received, verdict: Verdict) -> None:
        finding = verdict.finding
        raised = verdict.disposition == "raised"
        record = AlertRecord(
            id=alert_id_for(received.event, finding.key), child=finding.child, kind=finding.kind,
            severity=finding.severity, reason=finding.reason, raised_at=finding.at,
            state=verdict.disposition, frame_id=finding.frame_id, camera=finding.camera,
            recipients=first_recipients(finding.severity, self.rules.caregivers) if raised else [],
            release_at=verdict.release_at,
        )
        effects = received.effects
        self.store.create(record, effects)
        log.info("alert %s (%s, %s) %s: %s", record.id, record.kind, record.severity,
                 verdict.disposition, record.reason)
        if verdict.disposition == "held" and verdict.release_at is not None:
            effects.zadd(HELD, {record.id: verdict.release_at.timestamp()})
        if not raised:
            return
        write_event(effects, self.bus, raised_event(record))
        if record.severity == "urgent" and len(escalation_path(self.rules.caregivers)) > 1:
            due = self.clock() + timedelta(seconds=self.rules.escalate_after_s)
            effects.zadd(ESCALATIONS, {record.id: due.timestamp()})
