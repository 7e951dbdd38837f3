"""The labelling screen: `GET /api/labels/frames` (a child's recent frames with what the
mood classifier said and any label), `POST /api/labels` (say what the mood really was)
and `GET /api/labels` (the latest labels).

A label copies the frame to where `cradle mood train` reads it (services/labels.py), in a
session folder named by camera and the family's local day, as the chatbot's correction does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from models.images import DataError
from services.bus.events import MOODS, FrameCaptured, MoodObserved, utcnow
from services.gateway.deps import CurrentUser, State
from services.gateway.state import GatewayState
from services.labels import LabelStore, find_frame
from services.timeline.store import Timeline, TimelineConfig

router = APIRouter(prefix="/api/labels", tags=["labels"])
LOOK_BACK_DAYS = 7  # how far back a frame to label is looked for
NEAR = timedelta(minutes=2)  # a frame's mood is observed within this of its capture
FRAME_ID = r"^[A-Za-z0-9_-]{1,64}$"
Child = Annotated[str, Query(min_length=1, max_length=100, description="The child's name.")]


class FrameOut(BaseModel):
    frame_id: str
    child: str
    camera: str
    at: datetime = Field(description="When the mood was observed.")
    predicted: str
    probabilities: dict[str, float]
    label: str | None
    labelled_by: str | None
    frame_url: str


class FrameList(BaseModel):
    frames: list[FrameOut]


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frame_id: str = Field(pattern=FRAME_ID)
    child: str = Field(min_length=1, max_length=100)
    label: str = Field(description=f"The mood it really was: one of {', '.join(MOODS)}.")

    @field_validator("label")
    @classmethod
    def _a_mood(cls, label: str) -> str:
        if label not in MOODS:
            raise ValueError(f"must be one of {', '.join(MOODS)}")
        return label


class Labelled(BaseModel):
    frame_id: str
    label: str
    predicted: str
    by: str
    at: datetime


class LabelOut(Labelled):
    session: str


class LabelList(BaseModel):
    labels: list[LabelOut]


def _timeline(state: GatewayState) -> Timeline:
    return Timeline(state.redis, TimelineConfig(retention_days=state.settings.timeline.retention_days))


def _frames(state: GatewayState, child: str, hours: int, limit: int) -> list[FrameOut]:
    until = utcnow()
    events = _timeline(state).events(child, until - timedelta(hours=hours), until,
                                     types=["frame.captured", "mood.observed"])
    captured = {e.frame_id: e.path for e in events if isinstance(e, FrameCaptured)}
    labels = LabelStore(state.redis, state.settings.data_dir)
    found: list[FrameOut] = []
    for mood in reversed(events):  # newest first
        if len(found) == limit:
            break
        if not isinstance(mood, MoodObserved):
            continue
        path = find_frame(state.settings.frames_dir, mood.frame_id, captured.get(mood.frame_id), mood.camera)
        if path is None:
            continue  # pruned: nothing left to label
        label = labels.get(mood.frame_id)
        hint = urlencode({"child": child, "at": mood.occurred_at.isoformat()})
        found.append(FrameOut(
            frame_id=mood.frame_id, child=child, camera=mood.camera, at=mood.occurred_at,
            predicted=mood.mood, probabilities=mood.probabilities,
            label=label.label if label else None, labelled_by=label.by if label else None,
            frame_url=f"/api/frames/{mood.frame_id}?{hint}",
        ))
    return found


def _observed(timeline: Timeline, child: str, frame_id: str) -> MoodObserved | None:
    """The frame's `mood.observed`, newest day first, up to LOOK_BACK_DAYS back."""
    until = utcnow()
    for _day in range(LOOK_BACK_DAYS):
        since = until - timedelta(days=1)
        for event in reversed(timeline.events(child, since, until, types=["mood.observed"])):
            if isinstance(event, MoodObserved) and event.frame_id == frame_id:
                return event
        until = since
    return None


def _correct(state: GatewayState, correction: Correction, by: str) -> Labelled:
    timeline = _timeline(state)
    mood = _observed(timeline, correction.child, correction.frame_id)
    if mood is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no frame {correction.frame_id} of {correction.child} "
                            f"in the last {LOOK_BACK_DAYS} days")
    near = timeline.events(correction.child, mood.occurred_at - NEAR, mood.occurred_at,
                           types=["frame.captured"])
    relative = next((e.path for e in near if isinstance(e, FrameCaptured) and e.frame_id == mood.frame_id),
                    None)
    now = utcnow()
    store = LabelStore(state.redis, state.settings.data_dir)
    try:
        kept = store.correct_observed(state.settings.frames_dir, mood, relative, correction.label, by, now,
                                      ZoneInfo(state.settings.alerts.timezone))
    except DataError as exc:  # a corrupt JPEG, say: it must not reach the training folder
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if kept is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"frame {mood.frame_id}'s picture is gone (old frames are pruned)")
    return Labelled(frame_id=mood.frame_id, label=correction.label, predicted=mood.mood, by=by, at=now)


@router.get("/frames", response_model=FrameList, summary="A child's recent frames to label, newest first")
async def frames(
    child: Child, _user: CurrentUser, state: State,
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
    limit: Annotated[int, Query(ge=1, le=200)] = 60,
) -> dict[str, list[FrameOut]]:
    return {"frames": await run_in_threadpool(_frames, state, child, hours, limit)}


@router.post("", response_model=Labelled, status_code=status.HTTP_201_CREATED,
             summary="Say what a frame's mood really was (replaces an earlier label)")
async def label(body: Correction, user: CurrentUser, state: State) -> Labelled:
    return await run_in_threadpool(_correct, state, body, user.name)


@router.get("", response_model=LabelList, summary="The latest labels, newest first")
async def recent(
    _user: CurrentUser, state: State, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, list[LabelOut]]:
    found = await run_in_threadpool(LabelStore(state.redis, state.settings.data_dir).recent, limit)
    return {"labels": [LabelOut(frame_id=x.frame_id, label=x.label, predicted=x.predicted, by=x.by,
                                at=x.at, session=x.session) for x in found]}
