"""The gateway's alert, timeline, frame and push routes, with the real Redis behind them;
the live feed through a real uvicorn server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient

from services.alerts.escalation import Escalator
from services.alerts.state import ESCALATIONS, AlertStore
from services.bus.events import AlertAcknowledged, FrameCaptured, parse_event, utcnow
from services.delivery.alert_feed import AlertFeed, SseChannel
from services.delivery.webpush import Subscriptions, generate_keys
from services.gateway.app import create_app
from services.settings import Settings
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings
from services.timeline.store import Timeline
from tests.services.alerts.factories import Clock
from tests.services.delivery.fakes import browser_subscription, make_alert

JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/alerts"), ("GET", "/api/alerts/stream"), ("GET", "/api/alerts/x1"),
    ("POST", "/api/alerts/x1/ack"), ("GET", "/api/timeline?child=Mia"),
    ("GET", "/api/timeline/sleep?child=Mia"),
    ("GET", "/api/frames/abc"), ("GET", "/api/push/key"), ("POST", "/api/push/subscriptions"),
    ("DELETE", "/api/push/subscriptions"),
])
def test_every_route_needs_the_token(gateway: TestClient, method: str, path: str) -> None:
    assert gateway.request(method, path).status_code == 401


def test_alerts_filter_and_paginate(gateway: TestClient, client: redis.Redis, anna: dict[str, str]) -> None:
    now = utcnow()
    for i in range(5):
        make_alert(client, f"{i:032x}", child="Mia" if i % 2 else "Noah", at=now - timedelta(minutes=i))
    page = gateway.get("/api/alerts?limit=2", headers=anna).json()
    assert [a["id"] for a in page["alerts"]] == [f"{0:032x}", f"{1:032x}"] and page["next_offset"] == 2
    last = gateway.get("/api/alerts?limit=2&offset=4", headers=anna).json()
    assert len(last["alerts"]) == 1 and last["next_offset"] is None
    mia = gateway.get("/api/alerts", params={"child": "Mia"}, headers=anna).json()["alerts"]
    assert {a["child"] for a in mia} == {"Mia"} and len(mia) == 2
    since = (now - timedelta(minutes=2, seconds=30)).isoformat()
    assert len(gateway.get("/api/alerts", params={"since": since}, headers=anna).json()["alerts"]) == 3
    AlertStore(client).acknowledge(f"{3:032x}", "Ben", now)
    acked = gateway.get("/api/alerts?state=acknowledged", headers=anna).json()["alerts"]
    assert [a["id"] for a in acked] == [f"{3:032x}"]
    assert gateway.get("/api/alerts?state=bogus", headers=anna).status_code == 422


def test_ack_through_the_route_stops_escalation(
    gateway: TestClient, client: redis.Redis, anna: dict[str, str], settings: Settings
) -> None:
    record = make_alert(client, "e" * 32, severity="urgent", recipients=("Anna",))
    client.zadd(ESCALATIONS, {record.id: (record.raised_at + timedelta(seconds=120)).timestamp()})
    answer = gateway.post(f"/api/alerts/{record.id}/ack", headers=anna)
    assert answer.status_code == 200 and answer.json()["acknowledged_now"] is True
    assert answer.json()["alert"]["acknowledged_by"] == "Anna"
    again = gateway.post(f"/api/alerts/{record.id}/ack", headers=anna).json()
    assert again["acknowledged_now"] is False
    assert gateway.post("/api/alerts/nosuchalert/ack", headers=anna).status_code == 404

    clock = Clock(record.raised_at + timedelta(minutes=10))
    rules = AlertRules(caregivers=("Anna", "Ben"))
    assert Escalator(client, rules, settings.bus, clock).tick() == []
    assert AlertStore(client).get(record.id).state == "acknowledged"  # type: ignore[union-attr]
    acks = [e for _id, f in client.xrange(BusSettings().stream)  # type: ignore[union-attr]
            if isinstance(e := parse_event(f), AlertAcknowledged)]  # type: ignore[arg-type]
    assert [(a.alert_id, a.by) for a in acks] == [(record.id, "Anna")]
    detail = gateway.get(f"/api/alerts/{record.id}", headers=anna).json()
    assert [h["state"] for h in detail["history"]] == ["raised", "acknowledged"]


def test_frames_are_served_and_traversal_refused(
    gateway: TestClient, client: redis.Redis, anna: dict[str, str], settings: Settings
) -> None:
    frames = settings.frames_dir
    (frames / "cot" / "2026-11-22").mkdir(parents=True)
    (frames / "cot" / "2026-11-22" / "101500.000-f00d.jpg").write_bytes(JPEG)
    (settings.data_dir / "secret.jpg").write_bytes(b"not yours")
    got = gateway.get("/api/frames/f00d", headers=anna)
    assert got.status_code == 200 and got.content == JPEG and got.headers["content-type"] == "image/jpeg"

    at = utcnow()
    timeline = Timeline(client)
    timeline.add(FrameCaptured(frame_id="ev1", camera="cot", child="Mia",
                               path="cot/2026-11-22/101500.000-f00d.jpg", captured_at=at, occurred_at=at))
    timeline.add(FrameCaptured(frame_id="evil", camera="cot", child="Mia", path="../secret.jpg",
                               captured_at=at, occurred_at=at))
    hint = {"child": "Mia", "at": at.isoformat()}
    assert gateway.get("/api/frames/ev1", params=hint, headers=anna).content == JPEG
    assert gateway.get("/api/frames/evil", params=hint, headers=anna).status_code == 404
    for bad in ("..%2Fsecret", "..", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "*", "a.jpg"):
        assert gateway.get(f"/api/frames/{bad}", headers=anna).status_code in (404, 422), bad
    assert gateway.get("/api/frames/nothere", headers=anna).status_code == 404


def test_timeline_events_and_views(gateway: TestClient, client: redis.Redis, anna: dict[str, str]) -> None:
    from tests.services.alerts.factories import moods

    start = utcnow() - timedelta(hours=2)
    timeline = Timeline(client)
    for event in moods("s" * 40 + "h" * 5, start, every_s=60):
        timeline.add(event)
    params = {"child": "Mia", "since": (start - timedelta(minutes=1)).isoformat()}
    events = gateway.get("/api/timeline", params=params, headers=anna).json()
    assert len(events["events"]) == 45 and events["events"][0]["mood"] == "sleep"
    sleep = gateway.get("/api/timeline/sleep", params=params, headers=anna).json()["items"]
    assert len(sleep) == 1 and sleep[0]["duration_s"] == 39 * 60
    assert gateway.get("/api/timeline/mood", params=params, headers=anna).json()["items"]
    assert gateway.get("/api/timeline/children", headers=anna).json() == {"children": ["Mia"]}
    assert gateway.get("/api/timeline/bogus", params=params, headers=anna).status_code == 422
    assert gateway.get("/api/timeline?child=Mia&type=nope", headers=anna).status_code == 422


def test_the_mood_now_or_that_the_view_is_new(gateway: TestClient, client: redis.Redis,
                                              anna: dict[str, str]) -> None:
    from tests.services.alerts.factories import moods

    timeline = Timeline(client)
    assert gateway.get("/api/timeline/now", params={"child": "Mia"}, headers=anna).json() == {
        "child": "Mia", "view_new": False, "mood": None}
    for event in moods("h" * 20, utcnow() - timedelta(minutes=4), every_s=10, familiar=False):
        timeline.add(event)
    now = gateway.get("/api/timeline/now", params={"child": "Mia"}, headers=anna).json()
    assert now == {"child": "Mia", "view_new": True, "mood": None}
    for event in moods("s" * 30, utcnow() - timedelta(minutes=3), every_s=5):
        timeline.add(event)
    now = gateway.get("/api/timeline/now", params={"child": "Mia"}, headers=anna).json()
    assert now["view_new"] is False and now["mood"]["mood"] == "sleep" and now["mood"]["frames"] == 30
    assert gateway.get("/api/timeline/now", headers=anna).status_code == 422


def test_push_key_and_subscriptions(
    gateway: TestClient, client: redis.Redis, anna: dict[str, str], settings: Settings
) -> None:
    assert gateway.get("/api/push/key", headers=anna).status_code == 503
    public = generate_keys(*settings.delivery.key_files(settings.data_dir))
    assert gateway.get("/api/push/key", headers=anna).json() == {"public_key": public}
    sub = browser_subscription("https://push.example.net/send/abc")
    made = gateway.post("/api/push/subscriptions", json=sub.model_dump(), headers=anna)
    assert made.status_code == 201 and list(Subscriptions(client).of("anna")) == [made.json()["id"]]
    assert gateway.post("/api/push/subscriptions", json={"endpoint": "x"}, headers=anna).status_code == 422
    forget = {"endpoint": sub.endpoint}
    gone = gateway.request("DELETE", "/api/push/subscriptions", json=forget, headers=anna)
    assert gone.status_code == 204 and Subscriptions(client).of("anna") == {}
    assert gateway.request("DELETE", "/api/push/subscriptions", json=forget, headers=anna).status_code == 404


@pytest.fixture
def live_gateway(settings: Settings, client: redis.Redis) -> Iterator[str]:
    """The gateway on a real port: SSE needs a server that streams."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def read_events(response: httpx.Response, count: int) -> list[tuple[str, dict[str, str]]]:
    events: list[tuple[str, dict[str, str]]] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith((":", "retry:")):
            continue
        if not line and fields:
            events.append((fields.pop("id"), json.loads(fields.pop("data")) | {"event": fields["event"]}))
            fields = {}
            if len(events) == count:
                break
        elif line:
            name, _, value = line.partition(": ")
            fields[name] = value
    return events


def test_sse_clients_receive_their_alerts_and_every_state_change(
    live_gateway: str, client: redis.Redis, anna: dict[str, str]
) -> None:
    record = make_alert(client, "f" * 32)
    feed = AlertFeed(client)
    with httpx.Client(base_url=live_gateway, timeout=10) as http:
        assert http.get("/api/alerts/stream").status_code == 401
        with http.stream("GET", "/api/alerts/stream", headers=anna) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            feed.append("ben", "alert", {"alert_id": "not-for-anna"})
            SseChannel(feed).send(record, "anna")
            feed.append("*", "state", {"alert_id": record.id, "state": "acknowledged", "by": "Ben"})
            first, second = read_events(response, 2)
        assert first[1]["alert_id"] == record.id and first[1]["event"] == "alert"
        assert first[1]["body"] == record.reason
        assert second[1] == {"alert_id": record.id, "state": "acknowledged", "by": "Ben", "event": "state"}
        resumed_from = {**anna, "Last-Event-ID": first[0]}  # a browser reconnecting misses nothing
        with http.stream("GET", "/api/alerts/stream", headers=resumed_from) as response:
            (again,) = read_events(response, 1)
        assert again == second
