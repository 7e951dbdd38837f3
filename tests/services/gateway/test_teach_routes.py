"""The Teach screen's routes over a real Redis: what Cradle has learnt, train now, pictures."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from models.registry import Registry
from services import tasks
from services.settings import Settings
from services.teach import job
from tests.services.gateway.conftest import Auth


def test_every_route_needs_the_token(gateway: TestClient) -> None:
    picture = "/api/teach/pictures/mood/mood-20261201-030000-abcdef12/mood-confusion.png"
    for method, path in (("GET", "/api/teach"), ("POST", "/api/teach/train"), ("GET", picture)):
        assert gateway.request(method, path).status_code == 401


def test_what_cradle_has_learnt_before_any_label(gateway: TestClient, anna: Auth) -> None:
    found = gateway.get("/api/teach", headers=anna).json()
    assert found["counts"]["frames"] == 0 and found["running"] is False and found["last_run"] is None
    assert found["serving"] == {family: {"version": None, "demo": True, "scores": None, "promoted_at": None}
                                for family in ("mood", "caption")}
    assert found["moods"] == ["feed", "happy", "upset", "sleep"]
    assert [t["name"] for t in found["tags"]][:3] == ["in_cot", "on_floor", "near_stairs"]
    assert "labels from at least two days" in found["needs"]["mood"][0]
    assert any("scene tags" in n for n in found["needs"]["caption"])


def test_train_now_queues_a_run_once(gateway: TestClient, anna: Auth, client: redis.Redis,
                                     settings: Settings) -> None:
    answer = gateway.post("/api/teach/train", headers=anna)
    assert answer.status_code == 202 and answer.json()["state"] == "queued"
    queued = [json.loads(m) for m in client.lrange("training", 0, -1)]  # the training queue, in Redis
    assert [m["headers"]["task"] for m in queued] == [tasks.RETRAIN]
    limit = settings.teach.time_limit_s
    assert queued[0]["headers"]["timelimit"] == [limit, limit - 30]
    client.set(job.LOCK, "someone", ex=60)
    busy = gateway.post("/api/teach/train", headers=anna)
    assert busy.status_code == 409 and "already going" in busy.json()["detail"]


def test_a_versions_picture(gateway: TestClient, anna: Auth, settings: Settings, tmp_path: Path) -> None:
    picture = tmp_path / "mood-confusion.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n...")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    version = Registry(settings.models_dir, "mood").add(checkpoint, {}, (picture,))
    base = "/api/teach/pictures/mood"
    shown = gateway.get(f"{base}/{version.name}/mood-confusion.png", headers=anna)
    assert shown.status_code == 200 and shown.content == picture.read_bytes()
    assert shown.headers["content-type"] == "image/png"
    assert gateway.get(f"{base}/{version.name}/other.png", headers=anna).status_code == 404
    other = f"{base}/mood-20991231-000000-00000000/mood-confusion.png"
    assert gateway.get(other, headers=anna).status_code == 404
    assert gateway.get(f"/api/teach/pictures/speech/{version.name}/x.png", headers=anna).status_code == 404
    assert gateway.get(f"{base}/..%2F..%2Fetc/passwd.png", headers=anna).status_code in (404, 422)
