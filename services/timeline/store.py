"""The timeline: every event about a child, kept in Redis for `retention_days`.

Layout, per child and event type, one sorted set of event JSON scored by the event's
time (`cradle:timeline:<child>:<type>`), and a set of the types a child has. The member
is the event's own JSON, so storing a redelivered event again changes nothing. Each
write also trims what fell out of retention, so nothing grows without bound.

Acknowledgements name an alert, not a child: the child is found from the alert's
`alert.raised`, which the timeline remembers for as long as it keeps events.

Build it from the settings with `Timeline.from_settings(client, settings)`: retention is
`timeline.retention_days`, mood runs are the `runs` section the alerts read too.

`TimelineConsumer` is the bus handler (group "timeline"): it queues its writes on the
received event's transaction, so a crash stores an event either once or not at all. It
runs batched (a read's events commit together): the one thing it reads, the child of an
acknowledged alert, it also remembers from the `alert.raised` events it handled, so an
acknowledgement read together with its alert, not yet committed, still finds the child.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import redis
from redis.client import Pipeline

from services.bus.events import (
    AlertAcknowledged,
    AlertRaised,
    Event,
    HazardDetected,
    parse_event,
    utcnow,
)
from services.bus.streams import Received
from services.settings import Settings
from services.settings.sections import RunSettings, TimelineSettings
from services.timeline import views
from services.timeline.runs import split_runs

PREFIX = "cradle:timeline"
Clock = Callable[[], datetime]


SKIP_TYPES = frozenset({"speech.transcribed"})  # about a user, not a child
LOOKBACK = timedelta(hours=14)  # how far back a sleep or a feed may have begun
MOOD_NOW_WITHIN = timedelta(minutes=5)  # older frames do not tell the mood now
MOOD_NOW_CONTEXT = timedelta(hours=1)  # how far back "since when" is looked for


def _types_key(child: str) -> str:
    return f"{PREFIX}:{child}:types"


def _events_key(child: str, kind: str) -> str:
    return f"{PREFIX}:{child}:{kind}"


def _alert_child_key(alert_id: str) -> str:
    return f"{PREFIX}:alert-child:{alert_id}"


class Timeline:
    """Reads and writes one family's timeline. Times are timezone-aware datetimes."""

    # How far the views look back, fixed: the chatbot says them in its replies.
    lookback: ClassVar[timedelta] = LOOKBACK
    mood_now_within: ClassVar[timedelta] = MOOD_NOW_WITHIN
    mood_now_context: ClassVar[timedelta] = MOOD_NOW_CONTEXT

    def __init__(self, client: redis.Redis, settings: TimelineSettings | None = None, *,
                 runs: RunSettings | None = None, clock: Clock = utcnow) -> None:
        self.client = client
        self.settings = settings or TimelineSettings()
        self.runs = runs or RunSettings()
        self.clock = clock

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Settings, clock: Clock = utcnow) -> Timeline:
        """The timeline as Cradle's settings describe it: every part builds it this way."""
        return cls(client, settings.timeline, runs=settings.runs, clock=clock)

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.settings.retention_days)

    def child_of(self, event: Event) -> str | None:
        """The child an event is about, or None when it is about no child."""
        child = getattr(event, "child", None)
        if isinstance(child, str):
            return child
        if isinstance(event, AlertAcknowledged):
            found = self.client.get(_alert_child_key(event.alert_id))
            return str(found) if found is not None else None
        return None

    def add(self, event: Event, effects: Pipeline | None = None, child: str | None = None) -> bool:
        """Store `event` (through `effects` when given, committed by its owner) under
        `child`, or the child `child_of` finds; returns whether it was queued (False: about
        no child, skipped, or already too old)."""
        if event.type in SKIP_TYPES:  # type: ignore[attr-defined]
            return False
        child = child or self.child_of(event)
        cutoff = self.clock() - self.retention
        if child is None or event.occurred_at < cutoff:
            return False
        kind: str = event.type  # type: ignore[attr-defined]
        key = _events_key(child, kind)
        ttl = int(self.retention.total_seconds()) + 3600
        pipe = effects if effects is not None else self.client.pipeline(transaction=True)
        pipe.zadd(key, {event.model_dump_json(): event.occurred_at.timestamp()})
        pipe.zremrangebyscore(key, "-inf", f"({cutoff.timestamp()}")
        pipe.expire(key, ttl)
        pipe.sadd(_types_key(child), kind)
        pipe.expire(_types_key(child), ttl)
        pipe.sadd(f"{PREFIX}:children", child)
        if isinstance(event, AlertRaised):
            pipe.set(_alert_child_key(event.alert_id), child, ex=ttl)
        if effects is None:
            pipe.execute()
        return True

    def children(self) -> list[str]:
        return sorted(str(c) for c in self.client.smembers(f"{PREFIX}:children"))

    def events(self, child: str, since: datetime | None = None, until: datetime | None = None,
               types: Iterable[str] | None = None) -> list[Event]:
        """Events about `child` with since <= time <= until (None: no bound), oldest first."""
        kinds = sorted(types) if types is not None else sorted(
            str(k) for k in self.client.smembers(_types_key(child))
        )
        low = since.timestamp() if since else "-inf"
        high = until.timestamp() if until else "+inf"
        pipe = self.client.pipeline(transaction=False)
        for kind in kinds:
            pipe.zrangebyscore(_events_key(child, kind), low, high, withscores=True)
        rows = [row for reply in pipe.execute() for row in reply]
        rows.sort(key=lambda row: row[1])
        return [parse_event({"event": body}) for body, _score in rows]

    def latest(self, child: str, kind: str, before: datetime | None = None, count: int = 1) -> list[Event]:
        """The `count` newest events of one type (newest first), at or before `before`."""
        high = before.timestamp() if before else "+inf"
        bodies = self.client.zrevrangebyscore(_events_key(child, kind), high, "-inf", start=0, num=count)
        return [parse_event({"event": str(body)}) for body in bodies]

    # The views below answer the chatbot's and the web app's questions about one child.

    def _moods(self, child: str, since: datetime | None, until: datetime | None) -> list[Event]:
        return self.events(child, since, until, types=["mood.observed"])

    def mood_over_time(self, child: str, since: datetime, until: datetime,
                       bucket: timedelta = timedelta(minutes=15)) -> list[views.MoodBucket]:
        return views.mood_over_time(self._moods(child, since, until), since, until, bucket)

    def sleep_sessions(self, child: str, since: datetime, until: datetime | None = None) -> list[views.Span]:
        """Sleeps that overlap [since, until], whole (one that began before `since` included)."""
        moods = self._moods(child, since - LOOKBACK, until)
        sessions = views.sleep_sessions(moods, self.runs)
        return [s for s in sessions if s.end >= since]

    def wake_ups(self, child: str, since: datetime, until: datetime | None = None) -> list[views.WakeUp]:
        moods = self._moods(child, since - LOOKBACK, until)
        return [w for w in views.wake_ups(moods, self.runs) if w.at >= since]

    def feeds(self, child: str, since: datetime, until: datetime | None = None) -> list[views.Span]:
        moods = self._moods(child, since - LOOKBACK, until)
        return [f for f in views.feeds(moods, self.runs) if f.end >= since]

    def last_feed(self, child: str, within: timedelta = timedelta(days=1)) -> views.Span | None:
        found = self.feeds(child, self.clock() - within)
        return found[-1] if found else None

    def mood_now(self, child: str) -> views.MoodNow | None:
        """The mood of the latest run of frames (since when, looking back at most
        MOOD_NOW_CONTEXT), if a frame came in the last MOOD_NOW_WITHIN."""
        now = self.clock()
        moods = views.observations(self._moods(child, now - MOOD_NOW_CONTEXT, None))
        if not moods or moods[-1].at < (now - MOOD_NOW_WITHIN).timestamp():
            return None
        run = split_runs(moods, self.runs)[-1]
        return views.MoodNow(run.mood, _when(run.start), _when(moods[-1].at), run.frames)

    def view_is_new(self, child: str) -> bool:
        """Whether the camera's recent frames of `child` (the last MOOD_NOW_WITHIN) were
        mostly unfamiliar to the models, so that how the child is cannot be told."""
        now = self.clock()
        return views.view_is_new(self._moods(child, now - MOOD_NOW_WITHIN, None))

    def hazards(self, child: str, since: datetime, until: datetime | None = None) -> list[HazardDetected]:
        return views.hazards(self.events(child, since, until, types=["hazard.detected"]))

    def alerts(self, child: str, since: datetime, until: datetime | None = None) -> list[views.AlertStory]:
        kinds = ["alert.raised", "alert.escalated", "alert.acknowledged"]
        return views.alert_stories(self.events(child, since, until, types=kinds))

    def what_happened(self, child: str, since: datetime, until: datetime | None = None) -> list[views.Moment]:
        return views.what_happened(self.events(child, since, until, types=["caption.observed"]))


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class TimelineConsumer:
    """The bus handler of group "timeline":
    `Subscriber(client, bus, "timeline", name, consumer, batched=True)`."""

    remembered_alerts: ClassVar[int] = 4096  # alert id -> child, the most recent ones

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        # A fact of each alert.raised handled, true whether or not its read committed.
        self.alert_children: OrderedDict[str, str] = OrderedDict()

    def __call__(self, received: Received) -> None:
        event = received.event
        child = self.alert_children.get(event.alert_id) if isinstance(event, AlertAcknowledged) else None
        self.timeline.add(event, received.effects, child)
        if isinstance(event, AlertRaised):
            self.alert_children[event.alert_id] = event.child
            if len(self.alert_children) > self.remembered_alerts:
                self.alert_children.popitem(last=False)
