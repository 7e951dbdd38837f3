"""`GET /api/frames/{frame_id}`: a stored snapshot (JPEG), for a signed-in user only.

A frame is found from its `frame.captured` event on the child's timeline when the
caller names the child and a time near the frame (an alert's `child` and `raised_at`),
else by the camera's file naming (`<camera>/<day>/<time>-<frame id>.jpg`). Either way
the file must lie inside the frames folder.
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
from services.gateway.deps import CurrentUser, State
from services.gateway.state import GatewayState
from services.gateway.validation import Moment
from services.timeline.store import Timeline

router = APIRouter(prefix="/api/frames", tags=["frames"])
NEAR = timedelta(minutes=2)  # a frame is analysed and alerted on within this of its capture
FrameId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="A frame id.")]


def inside(root: Path, relative: str) -> Path | None:
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def find_frame(state: GatewayState, frame_id: str, child: str | None, at: datetime | None) -> Path | None:
    root = state.settings.frames_dir
    if child and at:
        for event in Timeline(state.redis).events(child, at - NEAR, at + NEAR, types=["frame.captured"]):
            if isinstance(event, FrameCaptured) and event.frame_id == frame_id:
                return inside(root, event.path)
    if not root.is_dir():
        return None
    for candidate in root.glob(f"*/*/*-{frame_id}.jpg"):  # frame_id holds no glob characters
        return inside(root, str(candidate.relative_to(root)))
    return None


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
