"""Cradle's events: typed, versioned, with ids and timestamps.

An event carries references (a frame id and its path, an audio id), never image or audio
bytes. The moods, captions and hazards seen in a frame carry its `path` as its
`frame.captured` did (the frame's reference in the frame store, services/camera/store.py),
so no consumer searches for the frame; those stored before they carried it read back with
`path` None. On the stream each event is two fields: `type` and `event` (the JSON body).
A consumer reads the body back with `parse_event`, which rejects unknown types, other
schema versions and missing fields with `MalformedEvent`.

An event's id is random (`new_id`) unless what it reports may be reported again (a task
redelivered, a send repeated): then `stable_id` derives it from what it reports, so every
report of one thing is one event to the consumers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from models.mood import MOODS as MOODS  # the models own the mood words; re-exported for the apps


def new_id() -> str:
    return uuid.uuid4().hex


def stable_id(*parts: str) -> str:
    """An event id derived from what the event reports (`parts`): publishing the same
    report again (a redelivered task, a repeated send) gives the same id, and consumers
    drop the repeat."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def utcnow() -> datetime:
    return datetime.now(UTC)


class MalformedEvent(ValueError):
    """A stream entry that is not a valid Cradle event; it goes to the dead-letter stream."""


class Event(BaseModel):
    """Fields every event has. `id` makes handling idempotent: a consumer that sees the
    same id twice must have the effect once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    SCHEMA_VERSION: ClassVar[int] = 1

    id: str = Field(default_factory=new_id, min_length=8, max_length=64)
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="cradle", max_length=100, description="The process that saw it.")

    def to_fields(self) -> dict[str, str]:
        return {"type": self.type, "event": self.model_dump_json()}  # type: ignore[attr-defined]


class FrameCaptured(Event):
    type: Literal["frame.captured"] = "frame.captured"
    frame_id: str
    camera: str
    child: str
    path: str = Field(description="Where the JPEG lies, relative to the frames folder.")
    captured_at: datetime


def _novelty() -> Any:
    return Field(
        default=None, ge=0, le=2,
        description="How far the frame is from what this model was trained on (cosine "
        "distance to its k-th nearest training frame); None: the model carries no "
        "familiarity statistics.",
    )


def _frame_path() -> Any:
    return Field(
        default=None,
        description="Where the frame's JPEG lies, relative to the frames folder (its "
        "frame.captured path). None: written before these events carried it; the frame "
        "store then finds the frame by its file naming.",
    )


def _familiar() -> Any:
    return Field(
        default=True,
        description="This event's model found the frame like what it was trained on. A mood "
        "from an unfamiliar frame is not counted; a caption from one is not told and raises "
        "no hazard. (Events written before familiarity existed read as familiar.)",
    )


class MoodObserved(Event):
    type: Literal["mood.observed"] = "mood.observed"
    frame_id: str
    camera: str
    child: str
    path: str | None = _frame_path()
    mood: str
    probabilities: dict[str, float]
    model_version: str
    novelty: float | None = _novelty()
    familiar: bool = _familiar()


class CaptionObserved(Event):
    type: Literal["caption.observed"] = "caption.observed"
    frame_id: str
    camera: str
    child: str
    path: str | None = _frame_path()
    text: str = Field(max_length=500)
    score: float = Field(
        ge=0, le=1, description="Confidence: geometric-mean word probability of the caption."
    )
    model_version: str
    novelty: float | None = _novelty()
    familiar: bool = _familiar()
    tags: list[str] = Field(default_factory=list, max_length=32,
                            description="Scene tags the captioner's scene head sees (none without one).")


class HazardDetected(Event):
    type: Literal["hazard.detected"] = "hazard.detected"
    frame_id: str
    camera: str
    child: str
    path: str | None = _frame_path()
    kind: str
    severity: Literal["info", "warning", "urgent"]
    caption: str
    rule: str
    model_version: str = Field(default="", description="The captioner version that saw it.")


class FrameFailed(Event):
    """A frame the vision worker could not analyse (unreadable file, corrupt JPEG)."""

    type: Literal["frame.failed"] = "frame.failed"
    frame_id: str
    camera: str
    child: str
    error: str


class SpeechTranscribed(Event):
    type: Literal["speech.transcribed"] = "speech.transcribed"
    audio_id: str
    user: str
    text: str
    language: str
    duration_s: float = Field(ge=0)
    backend: str


class AlertRaised(Event):
    type: Literal["alert.raised"] = "alert.raised"
    alert_id: str
    child: str
    kind: str
    severity: Literal["info", "warning", "urgent"]
    reason: str = Field(description="What happened, in words a parent reads at 3 a.m.")
    frame_id: str | None = None


class AlertAcknowledged(Event):
    type: Literal["alert.acknowledged"] = "alert.acknowledged"
    alert_id: str
    by: str


class AlertDelivered(Event):
    """One alert reached one caregiver on one channel (recorded once per user and channel)."""

    type: Literal["alert.delivered"] = "alert.delivered"
    alert_id: str
    child: str
    user: str
    channel: str


class AlertUndelivered(Event):
    """Every try to bring one alert to one caregiver on one channel failed (or the channel
    refused it for good); the attempts are recorded with the alert."""

    type: Literal["alert.undelivered"] = "alert.undelivered"
    alert_id: str
    child: str
    user: str
    channel: str
    attempts: int = Field(ge=1)
    error: str = Field(max_length=500)


class AlertEscalated(Event):
    """An urgent alert nobody acknowledged in time now goes to more caregivers (`to`;
    "*" means everyone)."""

    type: Literal["alert.escalated"] = "alert.escalated"
    alert_id: str
    child: str
    kind: str
    severity: Literal["info", "warning", "urgent"]
    reason: str
    level: int = Field(ge=1)
    to: list[str]
    frame_id: str | None = None


class CameraOffline(Event):
    """A camera sends no pictures. Camera ingest publishes it when the camera drops and
    again on every retry while it stays down, with the same `since`."""

    type: Literal["camera.offline"] = "camera.offline"
    camera: str
    child: str
    since: datetime
    error: str = Field(default="", max_length=500)


class ModelPromoted(Event):
    """A model the family taught passed the promotion gate and serves from now on."""

    type: Literal["model.promoted"] = "model.promoted"
    family: Literal["mood", "caption"]
    version: str
    previous: str | None = Field(default=None, description="What served before (None: the demo model).")
    why: str = Field(max_length=500, description="The gate's reason, in words.")
    child: str = Field(description="The child whose labels taught it most (alerts are about a child).")


AnyEvent = Annotated[
    FrameCaptured
    | MoodObserved
    | CaptionObserved
    | HazardDetected
    | FrameFailed
    | SpeechTranscribed
    | AlertRaised
    | AlertAcknowledged
    | AlertDelivered
    | AlertUndelivered
    | AlertEscalated
    | CameraOffline
    | ModelPromoted,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        FrameCaptured, MoodObserved, CaptionObserved, HazardDetected, FrameFailed,
        SpeechTranscribed, AlertRaised, AlertAcknowledged, AlertDelivered, AlertUndelivered,
        AlertEscalated, CameraOffline, ModelPromoted,
    )
}


def parse_event(fields: dict[str, str]) -> Event:
    """Turn a stream entry's fields back into its event, or raise `MalformedEvent`."""
    body = fields.get("event")
    if body is None:
        raise MalformedEvent("entry has no 'event' field")
    # The usual case in one pass of pydantic's JSON parser (twice as fast as json.loads
    # and validating the dict); anything it refuses is read again below, to say why.
    cls = EVENT_TYPES.get(fields.get("type", ""))
    if cls is not None:
        try:
            quick = cls.model_validate_json(body)
        except ValidationError:
            pass
        else:
            if quick.schema_version == cls.SCHEMA_VERSION:
                return quick
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"event body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedEvent("event body is not a JSON object")
    kind = raw.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise MalformedEvent(f"unknown event type {kind!r}")
    version = raw.get("schema_version")
    if version != cls.SCHEMA_VERSION:
        raise MalformedEvent(
            f"{kind} schema version {version!r}; this consumer reads {cls.SCHEMA_VERSION}"
        )
    try:
        event: Event = _adapter.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'][1:])) or kind}: {e['msg']}" for e in exc.errors()
        )
        raise MalformedEvent(f"{kind} is invalid: {problems}") from exc
    return event
