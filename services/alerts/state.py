"""Alert records in Redis, their state machine, and mutes.

An alert is a hash `cradle:alerts:<id>`; `cradle:alerts:index` and
`cradle:alerts:child:<child>` list them by time (trimmed to `retention_days` on write).
States:

    held ──(quiet hours end)──► raised ──► delivered ──► acknowledged
    muted (terminal)              └──────────┴──► escalated ──► acknowledged

Acknowledging, recording a delivery and the engine's writes are Lua scripts or queued
commands, so they can ride in a bus delivery's transaction; an acknowledgement is
final and stops escalation for everyone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field
from redis.client import Pipeline

from services.alerts.rules import Mute
from services.settings.alerts import Severity

State = Literal["held", "muted", "raised", "delivered", "escalated", "acknowledged"]
PREFIX = "cradle:alerts"
INDEX = f"{PREFIX}:index"
ESCALATIONS = f"{PREFIX}:escalations"  # urgent alerts by when they escalate next
HELD = f"{PREFIX}:held"  # held alerts by when quiet hours end
MUTES = f"{PREFIX}:mutes"


def record_key(alert_id: str) -> str:
    return f"{PREFIX}:{alert_id}"


def history_key(alert_id: str) -> str:
    return f"{PREFIX}:{alert_id}:history"


def deliveries_key(alert_id: str) -> str:
    return f"{PREFIX}:{alert_id}:deliveries"


class AlertRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    child: str
    kind: str
    severity: Severity
    reason: str
    raised_at: datetime
    state: State
    frame_id: str | None = None
    camera: str | None = None
    level: int = Field(default=0, description="Escalation steps taken so far.")
    recipients: list[str] = Field(default_factory=list, description='Who it went to; "*": everyone.')
    release_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    def to_hash(self) -> dict[str, str]:
        raw = self.model_dump(mode="json", exclude_none=True)
        raw["recipients"] = json.dumps(self.recipients)
        return {k: str(v) for k, v in raw.items()}

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> AlertRecord:
        fields: dict[str, Any] = dict(raw)
        fields["recipients"] = json.loads(raw.get("recipients", "[]"))
        return cls.model_validate(fields)


_ACKNOWLEDGE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state == 'acknowledged' or state == 'muted' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'acknowledged_by', ARGV[1], 'acknowledged_at', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[4])
return 1
"""

_DELIVERED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'raised' then
  redis.call('HSET', KEYS[1], 'state', 'delivered')
end
redis.call('RPUSH', KEYS[2], ARGV[3])
return 1
"""


def history_entry(state: str, at: datetime, **details: Any) -> str:
    return json.dumps({"state": state, "at": at.isoformat(), **details})


class AlertStore:
    def __init__(self, client: redis.Redis, retention_days: float = 30.0) -> None:
        self.client = client
        self.retention = timedelta(days=retention_days)

    def create(self, record: AlertRecord, pipe: Pipeline) -> None:
        """Queue a new alert's writes on `pipe` (the caller executes it)."""
        ttl = int(self.retention.total_seconds())
        score = record.raised_at.timestamp()
        cutoff = f"({score - ttl}"
        key = record_key(record.id)
        pipe.hset(key, mapping=record.to_hash())  # type: ignore[arg-type]
        pipe.rpush(history_key(record.id), history_entry(record.state, record.raised_at))
        child_index = f"{PREFIX}:child:{record.child}"
        for index in (INDEX, child_index):
            pipe.zadd(index, {record.id: score})
            pipe.zremrangebyscore(index, "-inf", cutoff)
        for owned in (key, history_key(record.id), deliveries_key(record.id), child_index):
            pipe.expire(owned, ttl)

    def get(self, alert_id: str) -> AlertRecord | None:
        raw: dict[str, str] = self.client.hgetall(record_key(alert_id))  # type: ignore[assignment]
        return AlertRecord.from_hash(raw) if raw else None

    def history(self, alert_id: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.client.lrange(history_key(alert_id), 0, -1)]

    def list(self, child: str | None = None, since: datetime | None = None, until: datetime | None = None,
             states: Sequence[str] | None = None, offset: int = 0, limit: int = 50) -> list[AlertRecord]:
        """Alerts newest first, filtered, a page at a time."""
        index = f"{PREFIX}:child:{child}" if child else INDEX
        high = until.timestamp() if until else "+inf"
        low = since.timestamp() if since else "-inf"
        found: list[AlertRecord] = []
        start = 0
        skipped = 0
        while len(found) < limit:
            ids = self.client.zrevrangebyscore(index, high, low, start=start, num=max(limit, 50))
            if not ids:
                break
            start += len(ids)
            for alert_id in ids:
                record = self.get(str(alert_id))
                if record is None or (states and record.state not in states):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                found.append(record)
                if len(found) == limit:
                    break
        return found

    def acknowledge(self, alert_id: str, by: str, at: datetime, pipe: Pipeline | None = None) -> int | None:
        """Acknowledge an alert for everyone: 1 done, 0 it already was (or was muted), -1 no
        such alert; None when queued on `pipe`."""
        args = [by, at.isoformat(), history_entry("acknowledged", at, by=by), alert_id]
        keys = [record_key(alert_id), history_key(alert_id), ESCALATIONS, HELD]
        if pipe is not None:
            pipe.eval(_ACKNOWLEDGE, len(keys), *keys, *args)
            return None
        return int(self.client.eval(_ACKNOWLEDGE, len(keys), *keys, *args))

    def mark_delivered(self, alert_id: str, user: str, channel: str, at: datetime) -> bool:
        """Record that `user` got the alert on `channel`; False when that was already
        recorded (the idempotency key of a delivery) or the alert is unknown."""
        keys = [record_key(alert_id), history_key(alert_id), deliveries_key(alert_id)]
        entry = history_entry("delivered", at, user=user, channel=channel)
        done = self.client.eval(_DELIVERED, len(keys), *keys, f"{user}|{channel}", at.isoformat(), entry)
        return int(done) == 1

    def deliveries(self, alert_id: str) -> dict[str, str]:
        return self.client.hgetall(deliveries_key(alert_id))  # type: ignore[return-value]


def active_mutes(mutes: Sequence[Mute], child: str, at: datetime) -> tuple[Mute, ...]:
    """The mutes, of `mutes`, that hold for `child` at `at`."""
    return tuple(m for m in mutes if m.child in (None, child) and at < m.until)


class Mutes:
    """Mutes set by the family (through the chatbot): per child, or for every child."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def mute(self, mute: Mute, now: datetime) -> None:
        self._forget_expired(now)
        self.client.hset(MUTES, mute.child or "*", json.dumps({
            "until": mute.until.isoformat(), "up_to": mute.up_to, "by": mute.by,
        }))

    def unmute(self, child: str | None) -> bool:
        return bool(self.client.hdel(MUTES, child or "*"))

    def all(self) -> tuple[Mute, ...]:
        raw: dict[str, str] = self.client.hgetall(MUTES)  # type: ignore[assignment]
        mutes = []
        for child, body in raw.items():
            fields = json.loads(body)
            mutes.append(Mute(None if child == "*" else child, datetime.fromisoformat(fields["until"]),
                              fields["up_to"], fields["by"]))
        return tuple(mutes)

    def active(self, child: str, at: datetime) -> tuple[Mute, ...]:
        return active_mutes(self.all(), child, at)

    def _forget_expired(self, now: datetime) -> None:
        expired = [m.child or "*" for m in self.all() if m.until <= now]
        if expired:
            self.client.hdel(MUTES, *expired)
