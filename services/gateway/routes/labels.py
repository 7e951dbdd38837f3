"""The Teach screen's labels: `GET /api/labels/frames` (a child's recent frames with what
the mood classifier said and any label), `POST /api/labels` (say what a frame shows: its
mood and scene tags), `DELETE /api/labels/{frame_id}` and `GET /api/labels` (the latest).

Labels go to the one labels store the chatbot's corrections use too (services/labels.py),
which copies the frame and keeps each camera-day wholly on the training or the held-out
side. A frame's picture is found in the frame store (services/camera/store.py) by the
reference its `mood.observed` carries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool

from models.images import DataError
from services.bus.events import MOODS, MoodObserved, utcnow
from services.camera.store import FRAME_ID, FrameStore
from services.gateway.deps import CurrentUser, State, timeline_of
from services.gateway.state import GatewayState
from services.labels import KEEP, Label, LabelStore
from services.timeline import Timeline

router = APIRouter(prefix="/api/labels", tags=["labels"])
LOOK_BACK_DAYS = 7  # how far back a frame to label is looked for
Child = Annotated[str, Query(min_length=1, max_length=100, description="The child's name.")]


class FrameOut(BaseModel):
    frame_id: str
    child: str
    camera: str
    at: datetime = Field(description="When the mood was observed.")
    predicted: str
    probabilities: dict[str, float]
    familiar: bool = Field(description="Whether the mood model knew the view.")
    mood: str | None = Field(description="The mood a caregiver said it was, if any.")
    tags: list[str] = Field(description="The scene tags a caregiver gave it.")
    labelled_by: str | None
    frame_url: str


class FrameList(BaseModel):
    frames: list[FrameOut]


class LabelIn(BaseModel):
    """What a frame shows. A field left out stays as it was; `"mood": null` or
    `"tags": []` clears it; a frame left with neither is no longer labelled."""

    model_config = ConfigDict(extra="forbid")
    frame_id: str = Field(pattern=FRAME_ID)
    child: str = Field(min_length=1, max_length=100)
    mood: str | None = Field(default=None, description=f"One of {', '.join(MOODS)}, or null.")
    tags: list[str] | None = Field(default=None, max_length=32, description="Scene tags (teach.tags).")

    @field_validator("mood")
    @classmethod
    def _a_mood(cls, mood: str | None) -> str | None:
        if mood is not None and mood not in MOODS:
            raise ValueError(f"must be one of {', '.join(MOODS)}")
        return mood

    @model_validator(mode="after")
    def _says_something(self) -> LabelIn:
        if not {"mood", "tags"} & self.model_fields_set:
            raise ValueError("give a mood, scene tags or both")
        return self


class Labelled(BaseModel):
    frame_id: str
    mood: str | None
    tags: list[str]
    predicted: str
    by: str
    at: datetime


class LabelOut(Labelled):
    session: str
    side: str = Field(description="train, or held_out: kept aside to score every model")


class LabelList(BaseModel):
    labels: list[LabelOut]


def _frames(state: GatewayState, child: str, hours: int, limit: int) -> list[FrameOut]:
    until = utcnow()
    events = timeline_of(state).events(child, until - timedelta(hours=hours), until, types=["mood.observed"])
    store = FrameStore.of(state.settings)
    labels = LabelStore.of(state.redis, state.settings)
    found: list[FrameOut] = []
    for mood in reversed(events):  # newest first
        if len(found) == limit:
            break
        if not isinstance(mood, MoodObserved):
            continue
        if store.find(mood.frame_id, mood.path, mood.camera) is None:
            continue  # pruned: nothing left to label
        label = labels.get(mood.frame_id)
        hint = urlencode({"child": child, "at": mood.occurred_at.isoformat()})
        found.append(FrameOut(
            frame_id=mood.frame_id, child=child, camera=mood.camera, at=mood.occurred_at,
            predicted=mood.mood, probabilities=mood.probabilities, familiar=mood.familiar,
            mood=label.mood if label else None, tags=list(label.tags) if label else [],
            labelled_by=label.by if label else None, frame_url=f"/api/frames/{mood.frame_id}?{hint}",
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


def _labelled(label: Label) -> Labelled:
    return Labelled(frame_id=label.frame_id, mood=label.mood, tags=list(label.tags),
                    predicted=label.predicted, by=label.by, at=label.at)


def _label(state: GatewayState, said: LabelIn, by: str) -> Labelled | None:
    timeline = timeline_of(state)
    mood = _observed(timeline, said.child, said.frame_id)
    if mood is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no frame {said.frame_id} of {said.child} in the last {LOOK_BACK_DAYS} days")
    store = LabelStore.of(state.redis, state.settings)
    try:
        label = store.label_observed(
            state.settings.frames_dir, mood, by=by, at=utcnow(),
            timezone=state.settings.family.zone,
            mood=said.mood if "mood" in said.model_fields_set else KEEP,
            tags=(said.tags or []) if "tags" in said.model_fields_set else KEEP)
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DataError as exc:  # a corrupt JPEG, an unknown tag: it must not reach the training folder
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _labelled(label) if label else None


@router.get("/frames", response_model=FrameList, summary="A child's recent frames to label, newest first")
async def frames(
    child: Child, _user: CurrentUser, state: State,
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
    limit: Annotated[int, Query(ge=1, le=200)] = 60,
) -> dict[str, list[FrameOut]]:
    return {"frames": await run_in_threadpool(_frames, state, child, hours, limit)}


@router.post("", response_model=Labelled, status_code=status.HTTP_201_CREATED,
             responses={204: {"description": "The label was emptied: the frame is no longer labelled."}},
             summary="Say what a frame shows: its mood, its scene tags (changes an earlier label)")
async def label(body: LabelIn, user: CurrentUser, state: State) -> Any:
    saved = await run_in_threadpool(_label, state, body, user.name)
    return saved if saved is not None else Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{frame_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a frame's label")
async def remove(frame_id: Annotated[str, Path(pattern=FRAME_ID)], _user: CurrentUser,
                 state: State) -> Response:
    if not await run_in_threadpool(LabelStore.of(state.redis, state.settings).remove, frame_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"frame {frame_id} has no label")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=LabelList, summary="The latest labels, newest first")
async def recent(
    _user: CurrentUser, state: State, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, list[LabelOut]]:
    store = LabelStore.of(state.redis, state.settings)
    found, sides = await run_in_threadpool(lambda: (store.recent(limit), store.sides()))
    return {"labels": [LabelOut(**_labelled(x).model_dump(), session=x.session,
                                side=sides.get(x.session, "train")) for x in found]}
