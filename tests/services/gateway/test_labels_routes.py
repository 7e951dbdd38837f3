"""The labelling routes over a real Redis timeline and real JPEGs on disk, written as the
camera and the mood worker write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient

from chatbot.actions.household import Household
from services.bus.events import MoodObserved, utcnow
from services.camera.store import FrameStore
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings, load_settings
from tests.chatbot.actions.test_child_actions import seen
from tests.services.gateway.conftest import Auth, token

TIMEZONE = "America/New_York"


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    return load_settings(
        redis={"url": redis_server.url}, data_dir=tmp_path / "data", environment="test",
        rasa={"enabled": False},
        family={"children": [{"id": "Mia", "name": "Mia", "pronoun": "she"}], "timezone": TIMEZONE},
    )


@pytest.fixture
def backend(settings: Settings, client: redis.Redis) -> Household:
    """What `seen` writes through: the timeline and frames folder the gateway reads."""
    return Household(settings, client)


def frames(gateway: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    answer = gateway.get("/api/labels/frames", params={"child": "Mia", **params}, headers=auth)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["frames"]
    return found


def path_of(settings: Settings, frame: MoodObserved) -> Path:
    found = FrameStore(settings.frames_dir).find(frame.frame_id, camera=frame.camera)
    assert found is not None
    return found


def late_evening(now: datetime) -> datetime:
    """The latest 03:00 UTC at least a minute ago: 10 or 11 pm the day before in New York."""
    at = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return at if at <= now - timedelta(minutes=1) else at - timedelta(days=1)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/labels/frames?child=Mia"), ("POST", "/api/labels"), ("GET", "/api/labels"),
    ("DELETE", "/api/labels/f1"),
])
def test_every_route_needs_the_token(gateway: TestClient, method: str, path: str) -> None:
    assert gateway.request(method, path).status_code == 401


def test_recent_frames_newest_first_with_what_the_classifier_said(
    gateway: TestClient, backend: Household, settings: Settings, anna: Auth,
) -> None:
    now = utcnow()
    seen(backend, "ss", now - timedelta(hours=3), frames=True)  # outside a two-hour window
    written = seen(backend, "hufs", now - timedelta(minutes=10), frames=True)
    seen(backend, "h", now - timedelta(minutes=20), child="Leo", frames=True)
    path_of(settings, written[1]).unlink()  # pruned: nothing to label

    listed = frames(gateway, anna, hours=2)
    assert [f["frame_id"] for f in listed] == [written[i].frame_id for i in (3, 2, 0)]
    assert [f["predicted"] for f in listed] == ["sleep", "feed", "happy"]
    newest = listed[0]
    assert newest == {
        "frame_id": written[3].frame_id, "child": "Mia", "camera": "cot",
        "at": newest["at"], "predicted": "sleep", "probabilities": {"sleep": 0.9}, "familiar": True,
        "mood": None, "tags": [], "labelled_by": None, "frame_url": newest["frame_url"],
    }
    assert datetime.fromisoformat(newest["at"]) == written[3].occurred_at
    url = urlsplit(newest["frame_url"])
    assert url.path == f"/api/frames/{written[3].frame_id}"
    assert parse_qs(url.query) == {"child": ["Mia"], "at": [written[3].occurred_at.isoformat()]}
    picture = gateway.get(newest["frame_url"], headers=anna)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.content == path_of(settings, written[3]).read_bytes()

    assert len(frames(gateway, anna, hours=24)) == 5
    assert len(frames(gateway, anna, hours=24, limit=2)) == 2
    assert frames(gateway, anna, child="Noah") == []
    for bad in ({"hours": 0}, {"hours": 169}, {"limit": 0}, {"limit": 201}, {"child": ""}):
        answer = gateway.get("/api/labels/frames", params={"child": "Mia", **bad}, headers=anna)
        assert answer.status_code == 422, bad


def test_a_label_gives_a_mood_and_scene_tags_which_can_change_and_go(
    gateway: TestClient, backend: Household, settings: Settings, client: redis.Redis, anna: Auth,
) -> None:
    at = late_evening(utcnow())
    (frame,) = seen(backend, "u", at, frames=True)
    local_day = at.astimezone(ZoneInfo(TIMEZONE)).date()
    assert local_day != at.date()  # the family's day, not UTC's, names the session
    session = f"cot-{local_day.isoformat()}"

    said = {"frame_id": frame.frame_id, "child": "Mia", "mood": "feed", "tags": ["held", "other_adult"]}
    answer = gateway.post("/api/labels", json=said, headers=anna)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert {k: body[k] for k in ("frame_id", "mood", "tags", "predicted", "by")} == {
        "frame_id": frame.frame_id, "mood": "feed", "tags": ["held", "other_adult"], "predicted": "upset",
        "by": "Anna"}
    assert abs(datetime.fromisoformat(body["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    copy = settings.data_dir / "labels" / "frames" / session / f"{frame.frame_id}.jpg"
    assert copy.read_bytes() == path_of(settings, frame).read_bytes()

    (listed,) = frames(gateway, anna, hours=48)
    assert (listed["mood"], listed["tags"], listed["labelled_by"]) == ("feed", ["held", "other_adult"],
                                                                        "Anna")

    ben = token(client, "Ben")  # a field left out stays as it was
    again = gateway.post("/api/labels", json={"frame_id": frame.frame_id, "child": "Mia", "mood": "sleep"},
                         headers=ben)
    assert again.status_code == 201 and again.json()["tags"] == ["held", "other_adult"], again.text
    (latest,) = gateway.get("/api/labels", headers=anna).json()["labels"]
    assert {k: v for k, v in latest.items() if k != "at"} == {
        "frame_id": frame.frame_id, "mood": "sleep", "tags": ["held", "other_adult"], "predicted": "upset",
        "by": "Ben", "session": session, "side": "train"}

    cleared = gateway.post("/api/labels", json={"frame_id": frame.frame_id, "child": "Mia", "mood": None,
                                                "tags": []}, headers=anna)
    assert cleared.status_code == 204 and not copy.exists()
    gateway.post("/api/labels", json=said, headers=anna)
    assert gateway.delete(f"/api/labels/{frame.frame_id}", headers=anna).status_code == 204
    assert gateway.delete(f"/api/labels/{frame.frame_id}", headers=anna).status_code == 404
    assert gateway.get("/api/labels", headers=anna).json() == {"labels": []}


def test_the_latest_labels_newest_first(gateway: TestClient, backend: Household, anna: Auth) -> None:
    written = seen(backend, "hhh", utcnow() - timedelta(minutes=5), frames=True)
    for frame in written:
        correction = {"frame_id": frame.frame_id, "child": "Mia", "mood": "upset"}
        answer = gateway.post("/api/labels", json=correction, headers=anna)
        assert answer.status_code == 201, answer.text
    labels = gateway.get("/api/labels", headers=anna).json()["labels"]
    assert [x["frame_id"] for x in labels] == [f.frame_id for f in reversed(written)]
    assert len(gateway.get("/api/labels?limit=2", headers=anna).json()["labels"]) == 2
    assert gateway.get("/api/labels?limit=0", headers=anna).status_code == 422


def test_what_cannot_be_labelled_says_why(
    gateway: TestClient, backend: Household, settings: Settings, anna: Auth,
) -> None:
    pruned, corrupt, fine = seen(backend, "hhh", utcnow() - timedelta(minutes=5), frames=True)
    path_of(settings, pruned).unlink()
    path_of(settings, corrupt).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")

    def label(frame_id: str, mood: str = "feed", child: str = "Mia", **extra: Any) -> Any:
        correction = {"frame_id": frame_id, "child": child, "mood": mood, **extra}
        return gateway.post("/api/labels", json=correction, headers=anna)

    unknown = label("f0000000")
    assert unknown.status_code == 404 and "f0000000" in unknown.json()["detail"]
    assert label(fine.frame_id, child="Leo").status_code == 404  # another child's timeline
    gone = label(pruned.frame_id)
    assert gone.status_code == 404 and "pruned" in gone.json()["detail"]
    broken = label(corrupt.frame_id)
    assert broken.status_code == 422 and "decode" in broken.json()["detail"]

    angry = label(fine.frame_id, mood="angry")
    assert angry.status_code == 422 and "feed, happy, upset, sleep" in angry.text
    assert label("../etc").status_code == 422
    assert label(fine.frame_id, by="Ben").status_code == 422
    on_the_moon = label(fine.frame_id, tags=["on_the_moon"])
    assert on_the_moon.status_code == 422 and "on_the_moon" in on_the_moon.json()["detail"]
    silent = gateway.post("/api/labels", json={"frame_id": fine.frame_id, "child": "Mia"}, headers=anna)
    assert silent.status_code == 422 and "mood, scene tags or both" in silent.text
    assert gateway.delete("/api/labels/..%2Fetc", headers=anna).status_code in (404, 422)
    assert gateway.post("/api/labels", content=b"{oops", headers={**anna, "Content-Type": "application/json"}
                        ).status_code == 422
    labels = settings.data_dir / "labels"
    assert not labels.exists() or not any(labels.rglob("*.jpg"))
    assert gateway.get("/api/labels", headers=anna).json() == {"labels": []}
