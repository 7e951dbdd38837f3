"""Runs of one mood, tolerant of odd frames: the shared idea behind sleep sessions, feeds
and "upset for N minutes".

A mood classifier is wrong now and then, so a single `happy` frame inside an hour of
`sleep` must not end the sleep. A run ends only when `switch_frames` frames in a row
show other moods (the new run then starts at the first of them), or when no frame came
for `max_gap_s` (the camera was off: we do not know what happened, so the run ends at
its last frame and nobody "woke up").

`RunTracker` is incremental (the alerts engine feeds it one frame at a time and stores
it between events); `split_runs` folds a whole list (the timeline's views, the chatbot).
Both read `switch_frames` and `max_gap_s` from the one `runs` settings section
(`RunSettings`), so an alert and a reply agree about when a mood began and ended.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from services.settings.sections import RunSettings

EndedBy = Literal["switch", "gap", "open"]


@dataclass(frozen=True)
class Observation:
    """One frame's mood: `at` in seconds since the epoch (UTC)."""

    at: float
    mood: str
    frame_id: str = ""


@dataclass
class Run:
    mood: str
    start: float  # the run's first frame
    end: float  # its last frame of this mood
    frames: int  # frames of this mood in it
    first_frame: str = ""
    others: int = 0  # odd frames of other moods inside it
    ended_by: EndedBy = "open"

    @property
    def share(self) -> float:
        """How much of the run really showed its mood (1.0: no odd frame)."""
        return self.frames / (self.frames + self.others)

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass
class RunTracker:
    """The run in progress and the odd frames that may be starting the next one."""

    settings: RunSettings = field(default_factory=RunSettings)
    current: Run | None = None
    pending: list[Observation] = field(default_factory=list)

    def push(self, seen: Observation) -> Run | None:
        """Add one frame (in time order); returns the run it closed, if it closed one."""
        run = self.current
        if run is None:
            self._start([seen])
            return None
        last_seen = max([run.end, *(p.at for p in self.pending)])
        if seen.at < last_seen:
            return None  # out of order (a late redelivery): it cannot change the past
        if seen.at - last_seen > self.settings.max_gap_s:
            run.ended_by = "gap"
            self._start([seen])
            return run
        if seen.mood == run.mood:
            run.end, run.frames, run.others = seen.at, run.frames + 1, run.others + len(self.pending)
            self.pending.clear()
            return None
        self.pending.append(seen)
        if len(self.pending) < self.settings.switch_frames:
            return None
        run.ended_by = "switch"
        self._start(self.pending)
        return run

    def _start(self, frames: list[Observation]) -> None:
        # The new run's mood: the commonest among the frames that started it, the latest on a
        # tie. It begins at its first frame; frames after its last stay pending.
        counts = Counter(f.mood for f in frames)
        top = max(counts.values())
        mood = next(f.mood for f in reversed(frames) if counts[f.mood] == top)
        mine = [i for i, f in enumerate(frames) if f.mood == mood]
        first, last = frames[mine[0]], frames[mine[-1]]
        others = mine[-1] - mine[0] + 1 - len(mine)
        self.current = Run(mood, first.at, last.at, len(mine), first.frame_id, others)
        self.pending = frames[mine[-1] + 1:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": asdict(self.current) if self.current else None,
            "pending": [asdict(p) for p in self.pending],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], settings: RunSettings) -> RunTracker:
        current = Run(**raw["current"]) if raw.get("current") else None
        pending = [Observation(**p) for p in raw.get("pending", [])]
        return cls(settings, current, pending)


def split_runs(observations: Iterable[Observation], settings: RunSettings | None = None) -> list[Run]:
    """Every run in `observations` (sorted by time); the last one is `open`."""
    tracker = RunTracker(settings or RunSettings())
    runs = [closed for seen in observations if (closed := tracker.push(seen)) is not None]
    if tracker.current is not None:
        runs.append(tracker.current)
    return runs
