"""Alerts: `GET /api/alerts` (filtered, a page at a time), `GET /api/alerts/stream` (the
live feed as Server-Sent Events), `GET /api/alerts/{id}` (one alert, its history and
every delivery attempt) and `POST /api/alerts/{id}/ack`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from services.alerts import AlertRecord, AlertStore, State, acknowledge_alert
from services.bus import Publisher
from services.bus.events import utcnow
from services.delivery.outbox import Outbox
from services.gateway.deps import CurrentUser
from services.gateway.deps import State as GatewayDep
from services.gateway.routes.live import live_feed, start_after
from services.gateway.validation import Moment

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertPage(BaseModel):
    alerts: list[AlertRecord]
    offset: int
    limit: int
    next_offset: int | None


class AlertDetail(BaseModel):
    alert: AlertRecord
    history: list[dict[str, Any]]
    deliveries: dict[str, str]
    attempts: list[dict[str, Any]]


class Acknowledged(BaseModel):
    alert: AlertRecord
    acknowledged_now: bool


def _store(state: GatewayDep) -> AlertStore:
    return AlertStore(state.redis, state.settings.alerts.retention_days)


@router.get("", response_model=AlertPage, summary="Alerts, newest first")
def list_alerts(
    _user: CurrentUser, state: GatewayDep,
    child: Annotated[str | None, Query(max_length=100)] = None,
    states: Annotated[list[State] | None, Query(alias="state")] = None,
    since: Moment | None = None, until: Moment | None = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    found = _store(state).list(child, since, until, states, offset, limit + 1)
    more = len(found) > limit
    return AlertPage(alerts=found[:limit], offset=offset, limit=limit,
                     next_offset=offset + limit if more else None)


@router.get("/stream", summary="New alerts and their state changes, live (Server-Sent Events)",
            response_class=StreamingResponse)
async def stream(request: Request, user: CurrentUser, state: GatewayDep) -> StreamingResponse:
    last = await run_in_threadpool(start_after, state.redis, request.headers.get("Last-Event-ID"))
    return StreamingResponse(
        live_feed(request, state.settings, user.name, last), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}", response_model=AlertDetail, summary="One alert, what happened to it")
def get_alert(alert_id: str, _user: CurrentUser, state: GatewayDep) -> AlertDetail:
    store = _store(state)
    record = store.get(alert_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert (or it is older than the retention)")
    return AlertDetail(alert=record, history=store.history(alert_id), deliveries=store.deliveries(alert_id),
                       attempts=Outbox(state.redis).attempts(alert_id))


@router.post("/{alert_id}/ack", response_model=Acknowledged, summary="Acknowledge: stops it for everyone")
async def acknowledge(alert_id: str, user: CurrentUser, state: GatewayDep) -> Acknowledged:
    store = _store(state)
    publisher = Publisher(state.redis, state.settings.bus)
    done = await run_in_threadpool(acknowledge_alert, store, publisher, alert_id, user.name, utcnow(),
                                   "gateway")
    if done == -1:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert (or it is older than the retention)")
    record = store.get(alert_id)
    assert record is not None
    return Acknowledged(alert=record, acknowledged_now=done == 1)
