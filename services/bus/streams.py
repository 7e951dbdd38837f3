"""Publishing to and consuming from the event stream, at least once, with an effect once.

`Publisher.publish` appends an event (XADD, capped with MAXLEN ~). `Subscriber` reads as
one consumer of a consumer group and, for each entry:

- parses it; a malformed entry is logged and parked in the dead-letter stream at once;
- skips it if its event id was already handled by this group (a duplicate publish, or a
  redelivery after a crash between commit and acknowledgement);
- parks it after `max_deliveries` deliveries (a poison event that keeps failing);
- otherwise calls the handler with a `Delivery`. Redis writes the handler queues on
  `delivery.effects` (a MULTI pipeline: queue writes there, read through the client)
  commit in one EXEC with the "handled" mark and the XACK, so a consumer killed at any
  point leaves either nothing or everything, and two consumers racing on one event
  commit it once (the mark is WATCHed).

Entries left pending by a consumer that died are taken over with XAUTOCLAIM once they
have been idle `claim_idle_ms`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.client import Pipeline

from services.bus.events import Event, MalformedEvent, parse_event
from services.settings.sections import BusSettings

log = logging.getLogger(__name__)


class Publisher:
    """Appends events to the stream; one per process is enough (it holds no state)."""

    def __init__(self, client: redis.Redis, settings: BusSettings) -> None:
        self.client = client
        self.settings = settings

    def publish(self, event: Event) -> str:
        """Append `event`; returns the stream entry id."""
        entry_id = self.client.xadd(
            self.settings.stream,
            event.to_fields(),  # type: ignore[arg-type]
            maxlen=self.settings.maxlen,
            approximate=True,
        )
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


@dataclass
class Delivery:
    """One event handed to a handler, with a transaction for the handler's Redis effects."""

    event: Event
    entry_id: str
    deliveries: int
    effects: Pipeline = field(repr=False)


Handler = Callable[[Delivery], None]


@dataclass
class Subscriber:
    """One consumer in a consumer group of the event stream.

    `handler` raises to refuse an event; it is then retried (after `claim_idle_ms`) until
    `max_deliveries`, then parked. `run()` loops until `stop()`; `poll()` does one round.
    """

    client: redis.Redis
    settings: BusSettings
    group: str
    consumer: str
    handler: Handler
    stats: dict[str, int] = field(
        default_factory=lambda: {"handled": 0, "duplicates": 0, "failed": 0, "parked": 0}
    )
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        try:
            self.client.xgroup_create(self.settings.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _done_key(self, event_id: str) -> str:
        return f"{self.settings.stream}:done:{self.group}:{event_id}"

    def run(self) -> None:
        log.info("consumer %s of group %s started", self.consumer, self.group)
        while not self._stopping.is_set():
            try:
                self.poll()
            except redis.ConnectionError as exc:
                log.warning("event stream unreachable (%s); retrying", exc)
                self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()

    def poll(self) -> int:
        """Take over stale entries, then read new ones; returns how many were processed."""
        entries = self._reclaim()
        reclaimed = bool(entries)
        if not entries:
            reply = self.client.xreadgroup(
                self.group,
                self.consumer,
                {self.settings.stream: ">"},
                count=self.settings.batch,
                block=self.settings.block_ms,
            )
            streams: list[Any] = reply or []  # type: ignore[assignment]
            entries = [entry for _stream, batch in streams for entry in batch]
        for entry_id, fields in entries:
            fields = {_text(k): _text(v) for k, v in fields.items()}
            self._process(_text(entry_id), fields, reclaimed)
        return len(entries)

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
        return [(entry_id, fields) for entry_id, fields in claimed if fields is not None]

    def _deliveries(self, entry_id: str) -> int:
        pending = self.client.xpending_range(
            self.settings.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    def _process(self, entry_id: str, fields: dict[str, str], reclaimed: bool) -> None:
        try:
            event = parse_event(fields)
        except MalformedEvent as exc:
            log.error("malformed event %s parked: %s", entry_id, exc)
            deliveries = self._deliveries(entry_id) if reclaimed else 1
            self._park(entry_id, fields, reason=str(exc), deliveries=deliveries)
            return
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
        try:
            self.handler(Delivery(event, entry_id, deliveries, effects))
        except Exception:
            effects.reset()
            self.stats["failed"] += 1
            log.exception(
                "handler of group %s failed on event %s (delivery %d of %d)",
                self.group, event.id, deliveries, self.settings.max_deliveries,
            )
            return
        effects.set(done_key, entry_id, ex=self.settings.done_ttl_s)
        effects.xack(self.settings.stream, self.group, entry_id)
        try:
            effects.execute()
        except redis.WatchError:
            self._skip_duplicate(entry_id)
            return
        self.stats["handled"] += 1

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
