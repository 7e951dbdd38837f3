"""What the timeline means: pure functions over a child's events (oldest first).

Nothing here reads Redis; `Timeline` (store.py) fetches the events and calls these. Sleep
and feeds come from runs of one mood (runs.py, with the `runs` settings), so one odd frame
neither ends a sleep nor starts a feed. Moods and captions of frames the models found unfamiliar are left
out of every view: a model that was not taught a view says nothing about it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from services.bus.events import (
    AlertAcknowledged,
    AlertEscalated,
    AlertRaised,
    CaptionObserved,
    Event,
    HazardDetected,
    MoodObserved,
)
from services.settings.sections import RunSettings
from services.timeline.runs import Observation, Run, split_runs

MIN_SLEEP_S = 300.0  # a shorter run of `sleep` frames is a blink, not a nap
MIN_FEED_S = 60.0  # a shorter run of `feed` frames is not a feed


@dataclass(frozen=True)
class MoodBucket:
    start: datetime
    end: datetime
    counts: dict[str, int]  # frames per mood in [start, end)

    @property
    def mood(self) -> str | None:
        """The commonest mood in the bucket, None when no frame fell in it."""
        return max(self.counts, key=lambda m: self.counts[m]) if self.counts else None


@dataclass(frozen=True)
class Span:
    """A sleep session or a feed: from its first frame to its last."""

    start: datetime
    end: datetime
    frames: int
    ended: datetime | None  # when the next mood began (a wake-up); None: ongoing or unknown
    ongoing: bool  # the latest run, still going as of the last frame seen

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class MoodNow:
    mood: str
    since: datetime  # the start of the current run of this mood
    as_of: datetime  # the latest frame
    frames: int


@dataclass(frozen=True)
class WakeUp:
    at: datetime
    slept: timedelta
    mood: str  # the mood the child woke into


@dataclass(frozen=True)
class AlertStory:
    alert: AlertRaised
    escalations: list[AlertEscalated] = field(default_factory=list)
    acknowledged: AlertAcknowledged | None = None


@dataclass(frozen=True)
class Moment:
    at: datetime
    text: str


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def observations(events: Iterable[Event]) -> list[Observation]:
    """The moods of familiar frames."""
    return [
        Observation(e.occurred_at.timestamp(), e.mood, e.frame_id)
        for e in events if isinstance(e, MoodObserved) and e.familiar
    ]


def view_is_new(events: Iterable[Event]) -> bool:
    """Whether most of these frames (the recent ones) were unfamiliar to the models: then
    nobody can tell how the child is from them."""
    seen = [e.familiar for e in events if isinstance(e, MoodObserved)]
    return bool(seen) and seen.count(False) * 2 >= len(seen)


def mood_over_time(events: Iterable[Event], since: datetime, until: datetime,
                   bucket: timedelta) -> list[MoodBucket]:
    """Frames per mood in consecutive buckets of `bucket` from `since` to `until`."""
    if bucket <= timedelta(0):
        raise ValueError("bucket must be a positive duration")
    counts: list[Counter[str]] = []
    start = since
    while start < until:
        counts.append(Counter())
        start += bucket
    for seen in events:
        if isinstance(seen, MoodObserved) and seen.familiar and since <= seen.occurred_at < until:
            counts[int((seen.occurred_at - since) / bucket)][seen.mood] += 1
    return [
        MoodBucket(since + i * bucket, min(since + (i + 1) * bucket, until), dict(c))
        for i, c in enumerate(counts)
    ]


def _spans(runs: Sequence[Run], mood: str, min_s: float) -> list[Span]:
    spans = []
    for i, run in enumerate(runs):
        if run.mood != mood or run.duration_s < min_s:
            continue
        ended = _time(runs[i + 1].start) if run.ended_by == "switch" and i + 1 < len(runs) else None
        spans.append(Span(_time(run.start), _time(run.end), run.frames, ended, run.ended_by == "open"))
    return spans


def sleep_sessions(events: Iterable[Event], runs: RunSettings | None = None) -> list[Span]:
    return _spans(split_runs(observations(events), runs), "sleep", MIN_SLEEP_S)


def feeds(events: Iterable[Event], runs: RunSettings | None = None) -> list[Span]:
    return _spans(split_runs(observations(events), runs), "feed", MIN_FEED_S)


def wake_ups(events: Iterable[Event], runs: RunSettings | None = None) -> list[WakeUp]:
    """Each sleep that ended with the child seen awake (not one the camera lost)."""
    woke = []
    for before, after in pairwise(split_runs(observations(events), runs)):
        slept = before.mood == "sleep" and before.duration_s >= MIN_SLEEP_S
        if slept and before.ended_by == "switch":
            woke.append(WakeUp(_time(after.start), timedelta(seconds=before.duration_s), after.mood))
    return woke


def hazards(events: Iterable[Event]) -> list[HazardDetected]:
    return [e for e in events if isinstance(e, HazardDetected)]


def alert_stories(events: Iterable[Event]) -> list[AlertStory]:
    """Each alert raised, with what happened to it since (escalations, the acknowledgement)."""
    stories: dict[str, AlertStory] = {}
    for e in events:
        if isinstance(e, AlertRaised):
            stories.setdefault(e.alert_id, AlertStory(e))
        elif isinstance(e, AlertEscalated) and e.alert_id in stories:
            stories[e.alert_id].escalations.append(e)
        elif isinstance(e, AlertAcknowledged) and e.alert_id in stories:
            story = stories[e.alert_id]
            if story.acknowledged is None:
                stories[e.alert_id] = AlertStory(story.alert, story.escalations, e)
    return list(stories.values())


def what_happened(events: Iterable[Event]) -> list[Moment]:
    """The captions of familiar frames in words, a caption repeated on the next frames told once."""
    moments: list[Moment] = []
    for e in events:
        if not isinstance(e, CaptionObserved) or not e.familiar:
            continue
        if not moments or moments[-1].text != e.text:
            moments.append(Moment(e.occurred_at, e.text))
    return moments
