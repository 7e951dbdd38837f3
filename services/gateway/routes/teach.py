"""Teaching Cradle: `GET /api/teach` (labels so far, what is still needed, the serving
models, the last training run and the one in progress), `POST /api/teach/train` (the
Teach screen's "train now") and `GET /api/teach/pictures/{family}/{version}/{name}`
(a version's confusion matrix)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from models.registry import FAMILIES, Registry, RegistryError
from services import teach
from services.bus.events import MOODS
from services.gateway.deps import CurrentUser, State

router = APIRouter(prefix="/api/teach", tags=["teach"])
Version = Annotated[str, Path(pattern=r"^[a-z]+-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")]


@router.get("", summary="What Cradle has learnt and what it still needs")
async def overview(_user: CurrentUser, state: State) -> dict[str, Any]:
    found = await run_in_threadpool(teach.status, state.settings, state.redis)
    tags = [{"name": t.name, "label": t.label} for t in state.settings.teach.tags]
    return {**found, "moods": list(MOODS), "tags": tags}


@router.post("/train", status_code=status.HTTP_202_ACCEPTED, summary="Train on the labels now")
async def train(user: CurrentUser, state: State) -> dict[str, str]:
    if await run_in_threadpool(state.redis.exists, teach.LOCK):
        raise HTTPException(status.HTTP_409_CONFLICT, "a training run is already going")
    task = await run_in_threadpool(teach.request, state.celery, state.settings, f"asked by {user.name}")
    return {"task_id": task, "state": "queued"}


@router.get("/pictures/{family}/{version}/{name}", summary="A picture of a version (its confusion matrix)",
            response_class=FileResponse)
async def picture(family: str, version: Version, name: Annotated[str, Path(pattern=r"^[a-z-]+\.png$")],
                  _user: CurrentUser, state: State) -> FileResponse:
    if family not in FAMILIES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no model family {family!r}")
    try:
        folder = Registry(state.settings.models_dir, family).get(version).folder
    except RegistryError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    path = folder / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{version} has no {name}")
    return FileResponse(path, media_type="image/png")
