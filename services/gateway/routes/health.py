"""Liveness (`/health`, no token) and readiness (`/ready`: Redis, Celery workers, Rasa)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.gateway.deps import State, current_user

router = APIRouter(tags=["health"])


@router.get("/health", summary="The gateway process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _check_redis(state: State) -> dict[str, Any]:
    await run_in_threadpool(state.redis.ping)
    return {"ok": True}


async def _check_celery(state: State) -> dict[str, Any]:
    timeout = state.settings.gateway.ready_timeout_s
    replies = await run_in_threadpool(state.celery.control.ping, timeout=timeout)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"ok": False, "error": "no Celery worker answered a ping", "workers": []}
    return {"ok": True, "workers": workers}


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
    summary="Whether Redis, the Celery workers and Rasa are reachable",
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
            _run("rasa", _check_rasa, state, timeout),
        )
        checks.update(dict(others))
    else:
        checks["celery"] = {"ok": False, "error": "the broker (Redis) is unreachable"}
        checks["rasa"] = (await _run("rasa", _check_rasa, state, timeout))[1]
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
