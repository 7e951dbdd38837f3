"""Events at chosen times, for the rules' and the timeline's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.bus.events import CameraOffline, CaptionObserved, HazardDetected, MoodObserved

# 02:00 UTC: night, and inside the quiet hours the tests configure.
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
# 10:00 UTC: day.
DAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def mood(mood: str, at: datetime, child: str = "Mia", frame: str | None = None, *,
         familiar: bool = True, camera: str = "cot") -> MoodObserved:
    return MoodObserved(
        occurred_at=at, frame_id=frame or f"f{at.timestamp():.0f}", camera=camera, child=child,
        mood=mood, probabilities={mood: 0.9}, model_version="t",
        novelty=0.1 if familiar else 0.5, familiar=familiar,
    )


def moods(sequence: str | list[str], start: datetime, every_s: float = 10.0,
          child: str = "Mia", *, familiar: bool = True, camera: str = "cot") -> list[MoodObserved]:
    """One frame per mood, `every_s` apart; a letter stands for a mood (s sleep, h happy,
    u upset, f feed)."""
    names = {"s": "sleep", "h": "happy", "u": "upset", "f": "feed"}
    labels = [names.get(m, m) for m in sequence]
    return [mood(m, start + timedelta(seconds=i * every_s), child, familiar=familiar, camera=camera)
            for i, m in enumerate(labels)]


def hazard(at: datetime, kind: str = "near_stairs", severity: str = "urgent",
           child: str = "Mia") -> HazardDetected:
    return HazardDetected(
        occurred_at=at, frame_id=f"h{at.timestamp():.0f}", camera="cot", child=child, kind=kind,
        severity=severity, caption="a baby crawling towards the stairs", rule=kind,
    )


def caption(text: str, at: datetime, child: str = "Mia", *, familiar: bool = True) -> CaptionObserved:
    return CaptionObserved(
        occurred_at=at, frame_id=f"c{at.timestamp():.0f}", camera="cot", child=child, text=text,
        score=0.6, model_version="t", familiar=familiar,
    )


def offline(at: datetime, since: datetime, child: str = "Mia", camera: str = "cot") -> CameraOffline:
    return CameraOffline(occurred_at=at, camera=camera, child=child, since=since, error="connection refused")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
