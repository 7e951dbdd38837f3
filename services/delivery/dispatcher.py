"""The delivery consumer: the bus handler of group "delivery" and the senders.

`DeliveryHandler` turns `AlertRaised` and `AlertEscalated` into outbox jobs, one per user
and channel that reaches the user ("*": every user), and mirrors each alert's state
changes onto the live feed. It queues both on the received event's transaction, so an
event handled twice queues its jobs once.

`Sender.run` drains the outbox: a job whose key `AlertStore.deliveries` already holds is
finished unsent; otherwise the channel sends, and on success `AlertStore.mark_delivered`
records it and `AlertDelivered` is published (its id derived from the job, so a repeat is
dropped by consumers). A failure is recorded and retried with exponential backoff and
jitter until `attempts`, then published as `AlertUndelivered`. Channels never wait on one
another: each job is sent on its own, by `senders` threads.

The mark comes after the send, not before: a sender killed mid-send leaves its job leased
and unmarked, so it is sent again once the lease runs out (never lost). Marking first
would lose that alert for good; the cost of marking after is a repeat only when a sender
dies between the push service's answer and the mark.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import redis

from services.alerts.state import AlertStore
from services.auth import UserStore
from services.bus.events import (
    AlertAcknowledged,
    AlertDelivered,
    AlertEscalated,
    AlertRaised,
    AlertUndelivered,
    stable_id,
    utcnow,
)
from services.bus.streams import Received, write_event
from services.delivery.alert_feed import EVERYONE, AlertFeed
from services.delivery.channels import Channel, DeliveryFailed
from services.delivery.outbox import Job, Outbox
from services.settings.delivery import DeliverySettings
from services.settings.sections import BusSettings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class DeliveryHandler:
    """`Subscriber(client, bus, "delivery", name, DeliveryHandler(...))`."""

    def __init__(self, client: redis.Redis, channels: Sequence[Channel], feed: AlertFeed,
                 store: AlertStore, clock: Clock = utcnow) -> None:
        self.client = client
        self.channels = channels
        self.feed = feed
        self.store = store
        self.outbox = Outbox(client, store.retention)
        self.users = UserStore(client)
        self.clock = clock

    def recipients(self, names: Sequence[str]) -> list[str]:
        known = [user.name.lower() for user in self.users.all()]
        if EVERYONE in names:
            return known
        wanted = [name.lower() for name in names]
        for name in set(wanted) - set(known):
            log.warning("alert recipient %r is no Cradle user: 'cradle users add %s'", name, name)
        return [name for name in dict.fromkeys(wanted) if name in known]

    def __call__(self, received: Received) -> None:
        event = received.event
        if isinstance(event, AlertAcknowledged):
            self.feed.queue(received.effects, EVERYONE, "state",
                            {"alert_id": event.alert_id, "state": "acknowledged", "by": event.by})
        elif isinstance(event, AlertDelivered) and event.channel != "sse":
            self.feed.queue(received.effects, EVERYONE, "state", {
                "alert_id": event.alert_id, "state": "delivered", "user": event.user,
                "channel": event.channel,
            })
        elif isinstance(event, AlertRaised | AlertEscalated):
            self._plan(received, event)

    def _plan(self, received: Received, event: AlertRaised | AlertEscalated) -> None:
        record = self.store.get(event.alert_id)
        if record is None:
            log.warning("alert %s is not in the store (expired?): nothing to deliver", event.alert_id)
            return
        escalated = isinstance(event, AlertEscalated)
        self.feed.queue(received.effects, EVERYONE, "state", {
            "alert_id": record.id, "state": "escalated" if escalated else "raised", "child": record.child,
            "severity": record.severity, "reason": record.reason, "level": record.level,
        })
        if record.state in ("acknowledged", "muted"):
            return
        names = event.to if isinstance(event, AlertEscalated) else record.recipients
        now = self.clock()
        for user in self.recipients(names):
            for channel in self.channels:
                if channel.reaches(user):
                    self.outbox.queue(received.effects, Job(record.id, user, channel.name), now)


class Sender:
    """Drains the outbox; `run(stop)` is one sender thread."""

    def __init__(self, client: redis.Redis, channels: Sequence[Channel], settings: DeliverySettings,
                 bus: BusSettings, store: AlertStore, clock: Clock = utcnow) -> None:
        self.client = client
        self.channels = {channel.name: channel for channel in channels}
        self.settings = settings
        self.bus = bus
        self.store = store
        self.outbox = Outbox(client, store.retention)
        self.clock = clock
        # Longer than one send: a lease that runs out while the send still goes on sends twice.
        self.lease = timedelta(seconds=2 * settings.send_timeout_s + 1)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if not self.once():
                    stop.wait(self.settings.poll_s)
            except redis.ConnectionError as exc:
                log.warning("delivery cannot reach Redis (%s); retrying", exc)
                stop.wait(1.0)
            except Exception:  # a sender thread that died would silently stop delivery
                log.exception("delivery sender failed; its job falls due again when the lease ends")
                stop.wait(1.0)

    def once(self) -> bool:
        """Send one due job; False when none was due."""
        job = self.outbox.take(self.clock(), self.lease)
        if job is None:
            return False
        self.deliver(job)
        return True

    def backoff(self, tries: int) -> float:
        """Seconds before try `tries + 1`: doubling, capped, with jitter so many failed sends
        do not all come back at the same instant."""
        delay = min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** max(tries - 1, 0))
        return delay / 2 + random.uniform(0, delay / 2)

    def deliver(self, job: Job) -> None:
        record = self.store.get(job.alert_id)
        channel = self.channels.get(job.channel)
        pipe = self.client.pipeline(transaction=True)
        now = self.clock()
        if job.key in self.store.deliveries(job.alert_id):
            self._delivered(pipe, job, record.child if record else "")
        elif record is None or channel is None or record.state == "acknowledged":
            why = "alert gone" if record is None else "no such channel" if channel is None else "acknowledged"
            self.outbox.record(pipe, job, now, "skipped", reason=why)
            self.outbox.finish(pipe, job)
        else:
            started = time.perf_counter()
            try:
                channel.send(record, job.user)
                error, permanent = None, False
            except DeliveryFailed as exc:
                error, permanent = str(exc), exc.permanent
            except Exception as exc:  # a bug in one channel must not stop the others
                log.exception("channel %s failed unexpectedly", job.channel)
                error, permanent = f"{type(exc).__name__}: {exc}", False
            ms = round((time.perf_counter() - started) * 1000, 1)
            if error is None:
                self.store.mark_delivered(job.alert_id, job.user, job.channel, self.clock())
                self.outbox.record(pipe, job, self.clock(), "delivered", ms=ms)
                self._delivered(pipe, job, record.child)
            else:
                self._failed(pipe, job, record.child, error[:500], permanent, ms)
        pipe.execute()

    def _delivered(self, pipe: redis.client.Pipeline, job: Job, child: str) -> None:
        self.outbox.finish(pipe, job)
        write_event(pipe, self.bus, AlertDelivered(
            id=stable_id("delivered", job.id), alert_id=job.alert_id, child=child, user=job.user,
            channel=job.channel, source="delivery",
        ))

    def _failed(self, pipe: redis.client.Pipeline, job: Job, child: str, error: str,
                permanent: bool, ms: float) -> None:
        tries = job.tries + 1
        final = permanent or tries >= self.settings.attempts
        log.warning("delivery of alert %s to %s on %s failed (try %d%s): %s", job.alert_id, job.user,
                    job.channel, tries, ", giving up" if final else "", error)
        self.outbox.record(pipe, job, self.clock(), "failed", error=error, ms=ms, final=final)
        if not final:
            due = self.clock() + timedelta(seconds=self.backoff(tries))
            self.outbox.retry(pipe, Job(job.alert_id, job.user, job.channel, tries), due)
            return
        self.outbox.finish(pipe, job)
        write_event(pipe, self.bus, AlertUndelivered(
            id=stable_id("undelivered", job.id), alert_id=job.alert_id, child=child, user=job.user,
            channel=job.channel, attempts=tries, error=error, source="delivery",
        ))

    def stop(self) -> None:
        for channel in self.channels.values():
            channel.stop()
