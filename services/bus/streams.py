"""Publishing to and consuming from the event stream, at least once, with an effect once.

`write_event` is the one writer of the stream (XADD, capped with MAXLEN ~): on a client
it appends at once; on a caller's MULTI pipeline it appends when that transaction
commits, so an effect and the event that announces it are written both or neither (the
alerts engine, escalation and the delivery senders commit that way). `Publisher.publish`
appends at once. `Subscriber` reads as one consumer of a consumer group and, for each
entry:

- parses it; a malformed entry is logged and parked in the dead-letter stream at once;
- skips it if its event id was already handled by this group (a duplicate publish, or a
  redelivery after a crash between commit and acknowledgement);
- parks it after `max_deliveries` deliveries (a poison event that keeps failing);
- otherwise calls the handler with a `Received`. Redis writes the handler queues on
  `received.effects` (a MULTI pipeline: queue writes there, read through the client)
  commit in one EXEC with the "handled" mark and the XACK, so a consumer killed at any
  point leaves either nothing or everything, and two consumers racing on one event
  commit it once (the mark is WATCHed).

A `batched` subscriber commits each read of new entries together: one WATCH of all their
marks, one MGET to drop those already handled, then one EXEC of every handler's effects,
every mark (set by one script) and one XACK: three round trips a read instead of three
an event, and a handler's own commands the only ones it adds. The guarantees hold per
event: a handler that raises has only its own queued commands dropped and its entry left
pending; a race on any mark refuses the whole EXEC, and the read is then handled event
by event as above. The effects of the events before in the same read are not committed
while a handler runs, so a handler that reads what it wrote for an earlier event keeps
that in `Received.shared` and reads it there first: the alerts engine keeps each child's
rule memory there (the timeline, which looks up the child of an acknowledged alert,
keeps the children of the alerts it handled in a memory of its own). Entries taken over
or reclaimed are always handled one by one (their deliveries are counted).

Each consumer keeps a heartbeat in Redis (services/bus/liveness.py), renewed by a thread
of its own so a long handler does not stop it. On its first round and every
`heartbeat_every_ms` after, a consumer takes over at once every pending entry of the
consumers of its group whose heartbeat has expired, and removes them from the group; it
looks again the moment a live consumer's heartbeat would run out, so a killed consumer's
entries move within `heartbeat_ttl_ms` of its death. Entries of a consumer that is alive
but stuck, and events whose handler failed, are taken over with XAUTOCLAIM once idle
`claim_idle_ms` (looked for every `heartbeat_every_ms`, or `claim_idle_ms` when shorter,
not on every read); the WATCHed "handled" mark keeps each one effective once either way.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.client import Pipeline

from services.bus import liveness
from services.bus.events import Event, MalformedEvent, parse_event
from services.settings.sections import BusSettings

log = logging.getLogger(__name__)
# The "handled" marks of a batched read, in one command: KEYS the marks, ARGV[1] their TTL
# in seconds, then one entry id per mark (what each mark holds).
_MARK_HANDLED = """
for i, mark in ipairs(KEYS) do redis.call('SET', mark, ARGV[i + 1], 'EX', ARGV[1]) end
"""


def write_event(target: redis.Redis, settings: BusSettings, event: Event) -> Any:
    """Write `event` to the stream. `target` is a client (appended now; Redis answers the
    entry id) or a MULTI pipeline (queued: appended when the caller's transaction
    commits, with the rest of its writes, or not at all)."""
    return target.xadd(
        settings.stream,
        event.to_fields(),  # type: ignore[arg-type]
        maxlen=settings.maxlen,
        approximate=True,
    )


class Publisher:
    """Appends events to the stream; one per process is enough (it holds no state)."""

    def __init__(self, client: redis.Redis, settings: BusSettings) -> None:
        self.client = client
        self.settings = settings

    def publish(self, event: Event) -> str:
        """Append `event`; returns the stream entry id."""
        entry_id = write_event(self.client, self.settings, event)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


@dataclass
class Received:
    """One event handed to a handler, with a transaction for the handler's Redis effects.

    `shared` is one dict for every event of a transaction (one per event when they commit
    one by one): a handler keeps there what it queued for an event and reads back for a
    later one in the same transaction, which reads through the client do not see before
    EXEC. What a handler that raises put there is dropped with its commands (so replace a
    value there rather than change it in place)."""

    event: Event
    entry_id: str
    deliveries: int
    effects: Pipeline = field(repr=False)
    shared: dict[str, Any] = field(default_factory=dict, repr=False)


Handler = Callable[[Received], None]


@dataclass
class Subscriber:
    """One consumer in a consumer group of the event stream.

    `handler` raises to refuse an event; it is then retried (after `claim_idle_ms`) until
    `max_deliveries`, then parked. `run()` loops until `stop()`; `poll()` does one round.
    `batched`: commit each read of new entries in one transaction (see the module).
    """

    client: redis.Redis
    settings: BusSettings
    group: str
    consumer: str
    handler: Handler
    batched: bool = False
    stats: dict[str, int] = field(
        default_factory=lambda: {"handled": 0, "duplicates": 0, "failed": 0, "parked": 0}
    )
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _next_beat: float = field(default=0.0, repr=False)  # time.monotonic() of the next beat
    _next_sweep: float = field(default=0.0, repr=False)  # ... and of the next look for the dead
    _next_reclaim: float = field(default=0.0, repr=False)  # ... and for the stale
    _reread_own: bool = field(default=False, repr=False)  # after losing Redis mid-round
    _joined: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._join()
        except redis.ConnectionError as exc:  # started while Redis restarts: join when it is back
            log.warning("event stream unreachable (%s); group %s joined when it is back", exc, self.group)

    def _join(self) -> None:
        try:
            self.client.xgroup_create(self.settings.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._joined = True

    def _done_key(self, event_id: str) -> str:
        return f"{self.settings.stream}:done:{self.group}:{event_id}"

    def run(self) -> None:
        log.info("consumer %s of group %s started", self.consumer, self.group)
        beating = threading.Thread(target=self._keep_beating, name=f"heartbeat-{self.group}", daemon=True)
        beating.start()
        while not self._stopping.is_set():
            try:
                self.poll()
            except (redis.ConnectionError, redis.WatchError) as exc:
                # (WatchError: the connection broke while a mark was watched.)
                log.warning("event stream unreachable (%s); retrying", exc)
                # What we had read and not committed is still ours: handle it first when
                # Redis is back, rather than after `claim_idle_ms`.
                self._reread_own, self._joined = True, False
                self._stopping.wait(1.0)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("group %s is gone (Redis came back empty?); joining it again", self.group)
                self._joined = False
        beating.join(timeout=5)
        try:
            self.leave()
        except redis.ConnectionError as exc:
            log.warning("could not leave group %s cleanly (%s); others take over", self.group, exc)

    def stop(self) -> None:
        self._stopping.set()

    def leave(self) -> None:
        """Stop beating; leave the group when nothing of ours is pending (else the others
        take our entries over at once, seeing no heartbeat)."""
        self.client.delete(liveness.heartbeat_key(self.settings, self.group, self.consumer))
        mine = self.client.xpending_range(
            self.settings.stream, self.group, min="-", max="+", count=1, consumername=self.consumer
        )
        if not mine:
            self.client.xgroup_delconsumer(self.settings.stream, self.group, self.consumer)

    def beat(self) -> None:
        """Renew this consumer's heartbeat, and its place in the group (an idle consumer is
        listed too, and one taken for dead while it was stalled comes back)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(
            liveness.heartbeat_key(self.settings, self.group, self.consumer),
            f"{socket.gethostname()} {os.getpid()}", px=self.settings.heartbeat_ttl_ms,
        )
        pipe.xgroup_createconsumer(self.settings.stream, self.group, self.consumer)
        pipe.execute()
        self._next_beat = time.monotonic() + self.settings.heartbeat_every_ms / 1000

    def _keep_beating(self) -> None:
        # Its own thread: a handler that takes longer than the heartbeat's TTL stays alive.
        while not self._stopping.wait(self.settings.heartbeat_every_ms / 1000):
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("heartbeat of %s failed (%s); retrying", self.consumer, exc)

    def poll(self) -> int:
        """Take over the entries of dead consumers and stale ones, then read new ones;
        returns how many were processed."""
        if not self._joined:
            self._join()
        if time.monotonic() >= self._next_beat:
            self.beat()
        entries = self._own_pending() if self._reread_own else []
        if not entries and time.monotonic() >= self._next_sweep:
            entries = self._take_over_the_dead()
        if not entries and time.monotonic() >= self._next_reclaim:
            entries = self._reclaim()
        reclaimed = bool(entries)
        if not entries:
            # Wake up when the next sweep is due: a dying heartbeat is looked at on time.
            until_sweep = int((min(self._next_sweep, self._next_reclaim) - time.monotonic()) * 1000) + 1
            reply = self.client.xreadgroup(
                self.group,
                self.consumer,
                {self.settings.stream: ">"},
                count=self.settings.batch,
                block=max(1, min(self.settings.block_ms, until_sweep)),
            )
            streams: list[Any] = reply or []  # type: ignore[assignment]
            entries = [entry for _stream, batch in streams for entry in batch]
        read = [(_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
                for entry_id, fields in entries]
        if self.batched and not reclaimed:
            self._process_batch(read)
        else:
            for entry_id, fields in read:
                self._process(entry_id, fields, reclaimed)
        return len(entries)

    def _own_pending(self) -> list[tuple[Any, dict[Any, Any]]]:
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.settings.stream: "0"}, count=self.settings.batch
        )
        streams: list[Any] = reply or []  # type: ignore[assignment]
        entries = [(i, f) for _stream, batch in streams for i, f in batch if f]
        self._reread_own = len(entries) == self.settings.batch  # more may wait
        return entries

    def _take_over_the_dead(self) -> list[tuple[Any, dict[Any, Any]]]:
        """Claim the pending entries of the group's consumers without a heartbeat."""
        next_in = self.settings.heartbeat_every_ms / 1000
        entries: list[tuple[Any, dict[Any, Any]]] = []
        for member in liveness.members(self.client, self.settings, self.group):
            if member.name == self.consumer:
                continue
            if member.alive:
                if member.pending:  # look again just after its heartbeat would end
                    next_in = min(next_in, member.ttl_ms / 1000 + 0.01)
                continue
            room = self.settings.batch - len(entries)
            if room <= 0:
                next_in = 0.0
                break
            taken = liveness.take_over(self.client, self.settings, self.group, member.name,
                                       self.consumer, count=room)
            if taken:
                log.warning("consumer %s took over %d pending events of %s, whose heartbeat stopped",
                            self.consumer, len(taken), member.name)
            entries += taken
        self._next_sweep = time.monotonic() + next_in
        return entries

    def _reclaim(self) -> list[tuple[Any, dict[Any, Any]]]:
        # Redis 6.2 answers [next, entries]; 7.0 adds the ids of deleted entries.
        reply = self.client.xautoclaim(
            self.settings.stream,
            self.group,
            self.consumer,
            min_idle_time=self.settings.claim_idle_ms,
            start_id="0-0",
            count=self.settings.batch,
        )
        claimed: list[Any] = reply[1]
        if len(claimed) < self.settings.batch:  # else more may be stale: look again next round
            every_ms = min(self.settings.heartbeat_every_ms, self.settings.claim_idle_ms)
            self._next_reclaim = time.monotonic() + every_ms / 1000
        return [(entry_id, fields) for entry_id, fields in claimed if fields is not None]

    def _deliveries(self, entry_id: str) -> int:
        pending = self.client.xpending_range(
            self.settings.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    def _parse(self, entry_id: str, fields: dict[str, str], reclaimed: bool) -> Event | None:
        """The entry's event; None when it was malformed (it is parked)."""
        try:
            return parse_event(fields)
        except MalformedEvent as exc:
            log.error("malformed event %s parked: %s", entry_id, exc)
            deliveries = self._deliveries(entry_id) if reclaimed else 1
            self._park(entry_id, fields, reason=str(exc), deliveries=deliveries)
            return None

    def _process(self, entry_id: str, fields: dict[str, str], reclaimed: bool) -> None:
        event = self._parse(entry_id, fields, reclaimed)
        if event is not None:
            self._process_event(entry_id, fields, event, reclaimed)

    def _process_event(self, entry_id: str, fields: dict[str, str], event: Event, reclaimed: bool) -> None:
        done_key = self._done_key(event.id)
        effects = self.client.pipeline(transaction=True)
        # WATCH the "handled" mark: if another consumer commits this event while our
        # handler runs (it took over an entry we were slow on), our EXEC is refused.
        effects.watch(done_key)
        if effects.exists(done_key):
            effects.reset()
            self._skip_duplicate(entry_id)
            return
        # A new entry is on its first delivery; only a reclaimed one needs counting.
        deliveries = self._deliveries(entry_id) if reclaimed else 1
        if deliveries > self.settings.max_deliveries:
            effects.reset()
            log.error("event %s failed %d times; parked", event.id, deliveries - 1)
            self._park(entry_id, fields, reason="too many failed deliveries", deliveries=deliveries)
            return
        effects.multi()
        if not self._handle(Received(event, entry_id, deliveries, effects)):
            effects.reset()
            return
        effects.set(done_key, entry_id, ex=self.settings.done_ttl_s)
        effects.xack(self.settings.stream, self.group, entry_id)
        try:
            effects.execute()
        except redis.WatchError:
            # Another consumer committed the event meanwhile, or the connection broke around
            # EXEC: only the mark tells whether ours went through; if not, the entry stays.
            if self.client.exists(done_key):
                self._skip_duplicate(entry_id)
            else:
                self._reread_own = True
            return
        self.stats["handled"] += 1

    def _handle(self, received: Received) -> bool:
        """Call the handler; False (logged, counted) when it refused the event."""
        try:
            self.handler(received)
        except Exception:
            self.stats["failed"] += 1
            log.exception(
                "handler of group %s failed on event %s (delivery %d of %d)",
                self.group, received.event.id, received.deliveries, self.settings.max_deliveries,
            )
            return False
        return True

    def _process_batch(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Handle newly read entries (first deliveries) in one transaction; see the module."""
        read = [(entry_id, fields, event) for entry_id, fields in entries
                if (event := self._parse(entry_id, fields, reclaimed=False)) is not None]
        if not read:
            return
        marks = [self._done_key(event.id) for _entry_id, _fields, event in read]
        effects = self.client.pipeline(transaction=True)
        try:
            effects.watch(*marks)
            done_before = effects.mget(marks)
            effects.multi()
            acks: list[str] = []
            committing: dict[str, str] = {}  # the marks this transaction sets: mark -> entry id
            shared: dict[str, Any] = {}  # the handlers' notes for this transaction (Received.shared)
            for (entry_id, _fields, event), mark, done in zip(read, marks, done_before, strict=True):
                if done is not None or mark in committing:
                    acks.append(entry_id)
                    continue
                queued, noted = len(effects.command_stack), dict(shared)
                if not self._handle(Received(event, entry_id, 1, effects, shared)):
                    # Drop this handler's commands and notes only; its entry stays pending, retried.
                    del effects.command_stack[queued:]
                    shared.clear()
                    shared.update(noted)
                    continue
                committing[mark] = entry_id
                acks.append(entry_id)
            if committing:
                effects.eval(_MARK_HANDLED, len(committing), *committing,
                             self.settings.done_ttl_s, *committing.values())
            if acks:
                effects.xack(self.settings.stream, self.group, *acks)
                effects.execute()
        except redis.WatchError:
            # Another consumer committed one of these events meanwhile (or the connection
            # broke around EXEC): none of ours went through; one by one, each commits once.
            effects.reset()
            for entry_id, fields, event in read:
                self._process_event(entry_id, fields, event, reclaimed=False)
            return
        finally:
            effects.reset()
        self.stats["handled"] += len(committing)
        self.stats["duplicates"] += len(acks) - len(committing)

    def _skip_duplicate(self, entry_id: str) -> None:
        self.client.xack(self.settings.stream, self.group, entry_id)
        self.stats["duplicates"] += 1

    def _park(self, entry_id: str, fields: dict[str, str], *, reason: str, deliveries: int) -> None:
        parked = {
            **fields,
            "original_id": entry_id,
            "group": self.group,
            "reason": reason[:2000],
            "deliveries": str(deliveries),
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.settings.dead_letter_stream, parked, maxlen=self.settings.maxlen)  # type: ignore[arg-type]
        pipe.xack(self.settings.stream, self.group, entry_id)
        pipe.execute()
        self.stats["parked"] += 1


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
