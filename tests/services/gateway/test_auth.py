"""Gateway auth and readiness, with the real Redis behind it."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from services.auth import Role, UserStore
from services.bus.streams import Subscriber
from services.gateway.app import create_app
from services.redis_runtime import EmbeddedRedis, connect
from services.settings import load_settings
from services.settings.sections import BusSettings
from tests.conftest import wait_for


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token(gateway: TestClient) -> None:
    assert gateway.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/me", "/ready", "/metrics", "/openapi.json", "/docs"])
def test_every_other_route_refuses_a_missing_token(gateway: TestClient, path: str) -> None:
    response = gateway.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_valid_token_is_accepted_and_a_revoked_one_refused(
    gateway: TestClient, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    users = UserStore(client)
    _user, token = users.add("Anna", Role.parent)
    me = gateway.get("/api/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["name"] == "Anna" and me.json()["role"] == "parent"

    users.revoke("Anna")
    with caplog.at_level(logging.WARNING, logger="cradle.auth"):
        refused = gateway.get("/api/me", headers=bearer(token))
    assert refused.status_code == 401
    assert "unknown or revoked token" in refused.json()["detail"]
    assert caplog.records, "the refusal is logged"
    assert all(token not in record.getMessage() + str(record.__dict__) for record in caplog.records)


def test_wrong_token_gets_401(gateway: TestClient) -> None:
    assert gateway.get("/api/me", headers=bearer("cr_not-a-real-token")).status_code == 401
    assert gateway.get("/api/me", headers=bearer("x" * 5000)).status_code == 401


def test_tokens_are_stored_hashed(client: redis.Redis) -> None:
    _user, token = UserStore(client).add("Ben", Role.caregiver)
    stored = " ".join(f"{key} {client.dump(key)!r}" for key in client.keys("cradle:auth:*"))
    assert token not in stored and token[3:] not in stored
    assert UserStore(client).verify(token).name == "Ben"  # type: ignore[union-attr]


def test_each_response_carries_a_request_id(gateway: TestClient) -> None:
    response = gateway.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert len(gateway.get("/health").headers["X-Request-ID"]) == 32


def test_metrics_count_requests(gateway: TestClient, client: redis.Redis) -> None:
    _user, token = UserStore(client).add("Anna", Role.parent)
    gateway.get("/health")
    text = gateway.get("/metrics", headers=bearer(token)).text
    assert 'cradle_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text


def test_ready_reports_a_stopped_redis_with_the_reason(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    settings = load_settings(redis={"url": own_redis.url}, data_dir=tmp_path, environment="test")
    _user, token = UserStore(connect(own_redis.url)).add("Anna", Role.parent)
    with TestClient(create_app(settings)) as gateway:
        up = gateway.get("/ready", headers=bearer(token)).json()
        assert up["checks"]["redis"] == {"ok": True}
        assert up["checks"]["celery"]["ok"] is False  # no worker runs for this Redis
        own_redis.stop()
        down = gateway.get("/ready", headers=bearer(token))
    assert down.status_code == 503
    body = down.json()
    assert body["ready"] is False
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["celery"]["error"] == "the broker (Redis) is unreachable"


def test_ready_names_the_queue_without_worker_and_the_group_without_consumer(
    gateway: TestClient, client: redis.Redis, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    """The vision worker is dead while the others answer; the alerts engine's heartbeat stopped
    while the timeline's beats: 503 naming both, 200 once they are back."""
    _user, token = UserStore(client).add("Anna", Role.parent)
    bus = BusSettings(heartbeat_ttl_ms=60_000, block_ms=10)
    Subscriber(client, bus, "timeline", "timeline-1", lambda _delivery: None).poll()
    client.xgroup_create(bus.stream, "alerts", id="0", mkstream=True)
    client.xgroup_createconsumer(bus.stream, "alerts", "alerts-dead")  # no heartbeat
    start_worker("default,speech,training")

    def ready() -> Any:
        return gateway.get("/ready", headers=bearer(token))

    body = wait_for(lambda: (r := ready()).json()["checks"]["celery"]["workers"] and r.json(),
                    timeout=60, what="the worker to answer")
    assert ready().status_code == 503 and body["ready"] is False
    assert body["checks"]["celery"]["queues_without_worker"] == ["vision"]
    assert "vision" in body["checks"]["celery"]["error"]
    assert body["checks"]["consumers"]["groups"] == ["alerts", "timeline"]
    assert body["checks"]["consumers"]["groups_without_consumer"] == ["alerts"]

    start_worker("vision")
    Subscriber(client, bus, "alerts", "alerts-2", lambda _delivery: None).poll()
    body = wait_for(lambda: (r := ready()).status_code == 200 and r.json(), timeout=60,
                    what="the vision worker to answer")
    assert body["checks"]["celery"]["ok"] and len(body["checks"]["celery"]["workers"]) == 2
    assert body["checks"]["consumers"] == {"ok": True, "groups": ["alerts", "timeline"]}
    assert body["checks"]["rasa"] == {"ok": True, "enabled": False}
