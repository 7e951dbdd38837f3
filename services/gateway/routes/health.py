"""Liveness (`/health`, no token) and readiness (`/ready`: Redis, a Celery worker for every
queue, a live consumer for every consumer group of the event stream, Rasa)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.bus import liveness
from services.gateway.deps import State, current_user
from services.tasks import QUEUES

router = APIRouter(tags=["health"])


@router.get("/health", summary="The gateway process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _check_redis(state: State) -> dict[str, Any]:
    await run_in_threadpool(state.redis.ping)
    return {"ok": True}


async def _check_celery(state: State) -> dict[str, Any]:
    """Every queue needs a worker: one answering worker is not enough when it is not the
    vision worker the camera's frames wait for."""
    timeout = state.settings.gateway.ready_timeout_s
    inspect = state.celery.control.inspect(timeout=timeout)
    replies: dict[str, list[dict[str, Any]]] = await run_in_threadpool(inspect.active_queues) or {}
    served = {queue["name"] for queues in replies.values() for queue in queues or []}
    missing = [queue for queue in QUEUES if queue not in served]
    result: dict[str, Any] = {"ok": not missing, "workers": sorted(replies)}
    if missing:
        result["queues_without_worker"] = missing
        result["error"] = f"no worker serves the queue(s) {', '.join(missing)}"
    return result


async def _check_consumers(state: State) -> dict[str, Any]:
    """Every consumer group of the event stream needs a consumer whose heartbeat beats."""
    bus = state.settings.bus
    groups = await run_in_threadpool(liveness.groups, state.redis, bus)
    dead = await run_in_threadpool(liveness.groups_without_live_consumer, state.redis, bus)
    result: dict[str, Any] = {"ok": not dead, "groups": groups}
    if dead:
        result["groups_without_consumer"] = dead
        result["error"] = f"no live consumer in the group(s) {', '.join(dead)}"
    return result


async def _check_rasa(state: State) -> dict[str, Any]:
    if not state.settings.rasa.enabled:
        return {"ok": True, "enabled": False}
    response = await state.http.get(
        state.settings.rasa.url.rstrip("/") + "/", timeout=state.settings.gateway.ready_timeout_s
    )
    return {"ok": response.status_code == 200, "status": response.status_code}


async def _run(name: str, check: Any, state: State, timeout: float) -> tuple[str, dict[str, Any]]:
    try:
        return name, await asyncio.wait_for(check(state), timeout)
    except TimeoutError:
        return name, {"ok": False, "error": f"no answer within {timeout:.1f} s"}
    except Exception as exc:
        return name, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


@router.get(
    "/ready",
    summary="Whether Redis, a worker per queue, a consumer per event group and Rasa answer",
    dependencies=[Depends(current_user)],
    responses={503: {"description": "Something Cradle needs is down; the body says what"}},
)
async def ready(state: State) -> JSONResponse:
    timeout = state.settings.gateway.ready_timeout_s
    redis_name, redis_result = await _run("redis", _check_redis, state, timeout)
    checks = {redis_name: redis_result}
    if redis_result["ok"]:
        others = await asyncio.gather(
            _run("celery", _check_celery, state, timeout + 1),
            _run("consumers", _check_consumers, state, timeout),
            _run("rasa", _check_rasa, state, timeout),
        )
        checks.update(dict(others))
    else:
        checks["celery"] = {"ok": False, "error": "the broker (Redis) is unreachable"}
        checks["consumers"] = {"ok": False, "error": "the event stream (Redis) is unreachable"}
        checks["rasa"] = (await _run("rasa", _check_rasa, state, timeout))[1]
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
