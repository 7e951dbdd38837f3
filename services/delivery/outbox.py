"""The outbox: every send still to do, durable in Redis, taken under a lease.

A job is one alert for one user on one channel (`<alert>|<user>|<channel>`, so queuing it
twice changes nothing). `cradle:delivery:jobs` holds each job's tries so far and
`cradle:delivery:due` when it is next due. A sender takes a due job by moving its due
time one lease ahead: if the sender dies mid-send the job falls due again when the lease
runs out and another sender takes it. Every attempt is recorded per alert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from redis.client import Pipeline

PREFIX = "cradle:delivery"
DUE = f"{PREFIX}:due"
JOBS = f"{PREFIX}:jobs"

_TAKE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return nil end
redis.call('ZADD', KEYS[1], ARGV[2], due[1])
return {due[1], redis.call('HGET', KEYS[2], due[1]) or '{}'}
"""


def attempts_key(alert_id: str) -> str:
    return f"{PREFIX}:{alert_id}:attempts"


@dataclass(frozen=True)
class Job:
    alert_id: str
    user: str
    channel: str
    tries: int = 0

    @property
    def id(self) -> str:
        return f"{self.alert_id}|{self.user}|{self.channel}"

    @property
    def key(self) -> str:
        """The idempotency key `AlertStore.mark_delivered` records."""
        return f"{self.user}|{self.channel}"


class Outbox:
    def __init__(self, client: redis.Redis, retention: timedelta = timedelta(days=30)) -> None:
        self.client = client
        self.retention = retention

    def queue(self, pipe: Pipeline, job: Job, due: datetime) -> None:
        """Queue `job` on `pipe` unless it is queued already."""
        pipe.hsetnx(JOBS, job.id, json.dumps({"tries": job.tries}))
        pipe.zadd(DUE, {job.id: due.timestamp()}, nx=True)

    def take(self, now: datetime, lease: timedelta) -> Job | None:
        """The next due job, leased to the caller until now + lease; None when none is due."""
        reply = self.client.eval(_TAKE, 2, DUE, JOBS, now.timestamp(), (now + lease).timestamp())
        if not reply:
            return None
        job_id, body = reply
        alert_id, user, channel = str(job_id).split("|", 2)
        return Job(alert_id, user, channel, int(json.loads(body).get("tries", 0)))

    def retry(self, pipe: Pipeline, job: Job, due: datetime) -> None:
        pipe.hset(JOBS, job.id, json.dumps({"tries": job.tries}))
        pipe.zadd(DUE, {job.id: due.timestamp()}, xx=True)

    def finish(self, pipe: Pipeline, job: Job) -> None:
        pipe.zrem(DUE, job.id)
        pipe.hdel(JOBS, job.id)

    def record(self, pipe: Pipeline, job: Job, at: datetime, outcome: str, **details: Any) -> None:
        entry = {"at": at.isoformat(), "user": job.user, "channel": job.channel,
                 "try": job.tries + 1, "outcome": outcome, **details}
        pipe.rpush(attempts_key(job.alert_id), json.dumps(entry))
        pipe.expire(attempts_key(job.alert_id), int(self.retention.total_seconds()))

    def attempts(self, alert_id: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.client.lrange(attempts_key(alert_id), 0, -1)]

    def pending(self) -> int:
        return int(self.client.zcard(DUE))
