"""The timeline: `GET /api/timeline` (a child's events in a time range),
`GET /api/timeline/children`, `GET /api/timeline/now` (the mood now, or that the
camera's view is new to the models) and `GET /api/timeline/{view}` (mood over time,
sleep, wake-ups, feeds, hazards, alerts, what happened)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool

from services.bus.events import EVENT_TYPES, utcnow
from services.gateway.deps import CurrentUser, FamilyTimeline
from services.gateway.validation import Moment
from services.timeline import Timeline

router = APIRouter(prefix="/api/timeline", tags=["timeline"])
MAX_RANGE = timedelta(days=31)
View = Literal["mood", "sleep", "wake_ups", "feeds", "hazards", "alerts", "what_happened"]
Child = Annotated[str, Query(min_length=1, max_length=100, description="The child's name.")]
Since = Annotated[Moment | None, Query(description="From (ISO 8601); default: a day before until.")]
Until = Annotated[Moment | None, Query(description="Until (ISO 8601); default: now.")]


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or utcnow()
    since = since or until - timedelta(days=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give times with a zone (…Z or +01:00)")
    if since > until or until - since > MAX_RANGE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"since must be before until, at most {MAX_RANGE.days} days apart")
    return since, until


@router.get("", summary="A child's events in a time range, oldest first")
async def events(
    child: Child, _user: CurrentUser, timeline: FamilyTimeline, since: Since = None,
    until: Until = None,
    types: Annotated[list[str] | None, Query(alias="type", description="Event types to keep.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    start, end = _range(since, until)
    unknown = set(types or ()) - set(EVENT_TYPES)
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"unknown event types {sorted(unknown)}; known: {', '.join(EVENT_TYPES)}")
    found = await run_in_threadpool(timeline.events, child, start, end, types)
    return {"child": child, "since": start, "until": end, "truncated": len(found) > limit,
            "events": [event.model_dump(mode="json") for event in found[-limit:]]}


@router.get("/children", summary="The children the timeline knows")
def children(_user: CurrentUser, timeline: FamilyTimeline) -> dict[str, list[str]]:
    return {"children": timeline.children()}


def _now(timeline: Timeline, child: str) -> dict[str, Any]:
    if timeline.view_is_new(child):
        return {"view_new": True, "mood": None}
    current = timeline.mood_now(child)
    return {"view_new": False, "mood": asdict(current) if current else None}


@router.get("/now", summary="How the child is now, or that the camera's view is new to Cradle")
async def now(child: Child, _user: CurrentUser, timeline: FamilyTimeline) -> dict[str, Any]:
    found = await run_in_threadpool(_now, timeline, child)
    return {"child": child, **jsonable_encoder(found)}


def _view(timeline: Timeline, view: View, child: str, since: datetime, until: datetime) -> list[Any]:
    if view == "mood":
        return [{**asdict(b), "mood": b.mood} for b in timeline.mood_over_time(child, since, until)]
    if view in ("sleep", "feeds"):
        spans = (timeline.sleep_sessions if view == "sleep" else timeline.feeds)(child, since, until)
        return [{**asdict(s), "duration_s": s.duration.total_seconds()} for s in spans]
    if view == "wake_ups":
        wake_ups = timeline.wake_ups(child, since, until)
        return [{**asdict(w), "slept_s": w.slept.total_seconds()} for w in wake_ups]
    if view == "hazards":
        return list(timeline.hazards(child, since, until))
    if view == "alerts":
        return list(timeline.alerts(child, since, until))
    return list(timeline.what_happened(child, since, until))


@router.get("/{view}", summary="A view of a child's day: mood, sleep, wake-ups, feeds, hazards, alerts...")
async def view(view: View, child: Child, _user: CurrentUser, timeline: FamilyTimeline,
               since: Since = None, until: Until = None) -> dict[str, Any]:
    start, end = _range(since, until)
    found = await run_in_threadpool(_view, timeline, view, child, start, end)
    return {"child": child, "view": view, "since": start, "until": end, "items": jsonable_encoder(found)}
