"""`GET /api/frames/{frame_id}`: a stored snapshot (JPEG), for a signed-in user only.

The frame store (services/camera/store.py) finds it: at the path its `frame.captured`
event on the child's timeline carries, when the caller names the child and a time near
the frame (an alert's `child` and `raised_at`), else by its file naming. Either way the
file must lie inside the frames folder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from services.bus.events import FrameCaptured
from services.camera.store import FRAME_ID, FrameStore
from services.gateway.deps import CurrentUser, State, timeline_of
from services.gateway.state import GatewayState
from services.gateway.validation import Moment

router = APIRouter(prefix="/api/frames", tags=["frames"])
NEAR = timedelta(minutes=2)  # a frame is analysed and alerted on within this of its capture
FrameId = Annotated[str, PathParam(pattern=FRAME_ID, description="A frame id.")]


def find_frame(state: GatewayState, frame_id: str, child: str | None, at: datetime | None) -> Path | None:
    reference = None
    if child and at:  # the hint names the frame's capture: its reference, without a folder scan
        for event in timeline_of(state).events(child, at - NEAR, at + NEAR, types=["frame.captured"]):
            if isinstance(event, FrameCaptured) and event.frame_id == frame_id:
                reference = event.path
                break
    return FrameStore.of(state.settings).find(frame_id, reference)


@router.get("/{frame_id}", summary="A snapshot (JPEG)", response_class=FileResponse)
async def frame(
    frame_id: FrameId, _user: CurrentUser, state: State,
    child: Annotated[str | None, Query(max_length=100)] = None,
    at: Annotated[Moment | None, Query(description="About when it was taken (ISO 8601).")] = None,
) -> FileResponse:
    path = await run_in_threadpool(find_frame, state, frame_id, child, at)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such frame (or it is older than the retention)")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
