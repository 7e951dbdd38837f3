"""The vision worker through real Redis and a real Celery worker: frames in, moods out."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from PIL import Image

from models.caption.safety import DEFAULT_RULES, load_rules
from models.caption.serve import Caption
from models.mood.config import MoodConfig
from models.mood.model import build_model, save_model
from models.mood.serve import MoodResult
from models.probes import real_photos
from models.scenes import make_room, render_scene
from models.vision import FrameAnalysis
from services.bus.events import FrameCaptured, parse_event
from services.settings import Settings
from tests.conftest import ROOT, require
from workers.vision import frame_events

MODELS = ROOT / "var" / "models"


@pytest.fixture(scope="module")
def mood_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A head-only checkpoint on the real ImageNet backbone (its head is untrained: these
    tests are about the seam, not accuracy)."""
    require((MODELS / "backbones" / "mobilenet_v2-b0353104.pth").is_file(),
            "MobileNetV2 weights missing: run `make setup` (cradle assets fetch)")
    model = build_model(MoodConfig(image_size=96), weights_dir=MODELS)
    return save_model(model, tmp_path_factory.mktemp("mood") / "mood.pt", head_only=True)


def frame(frame_id: str, path: str) -> dict[str, object]:
    return FrameCaptured(
        frame_id=frame_id, camera="cot", child="Mia", path=path, captured_at=datetime.now(UTC)
    ).model_dump(mode="json")


def events_on(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(settings.bus.stream)]


def test_the_events_of_a_frame_carry_its_reference(settings: Settings) -> None:
    """Moods, captions and hazards name the frame's JPEG as its frame.captured did, so no
    consumer searches for it."""
    captured = FrameCaptured.model_validate(frame("f-a", "cot/a.jpg"))
    file = settings.frames_dir / "cot" / "a.jpg"
    analysis = FrameAnalysis(file, MoodResult(file, "happy", {"happy": 1.0}, "mood-t", familiar=True),
                             Caption("a baby crawling near the stairs", -1.0, 0.9, "caption-t", file,
                                     familiar=True))
    events = frame_events(captured, analysis, load_rules(DEFAULT_RULES), settings)
    assert [e.type for e in events] == ["mood.observed", "caption.observed", "hazard.detected"]
    assert [e.path for e in events] == ["cot/a.jpg"] * 3  # type: ignore[attr-defined]


def test_frames_become_mood_events_and_bad_frames_failure_events(
    settings: Settings, sender: Celery, client: redis.Redis, tmp_path: Path, mood_checkpoint: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    frames_dir = tmp_path / "data" / "frames"
    (frames_dir / "cot").mkdir(parents=True)
    for name, colour in (("a.jpg", (200, 150, 120)), ("b.jpg", (30, 30, 60))):
        Image.new("RGB", (128, 128), colour).save(frames_dir / "cot" / name)
    (frames_dir / "cot" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    worker = start_worker(
        "vision", CRADLE_MODELS__MOOD_CHECKPOINT=str(mood_checkpoint), CRADLE_MODELS__DIR=str(MODELS)
    )
    celery = sender
    batch = [
        frame("f-a", "cot/a.jpg"), frame("f-broken", "cot/broken.jpg"),
        frame("f-b", "cot/b.jpg"), frame("f-escape", "../../../etc/passwd"),
    ]
    returned = celery.send_task("workers.vision.analyse_frames", args=[batch]).get(timeout=180)

    published = [parse_event(fields) for fields in events_on(client, settings)]
    assert [e.model_dump(mode="json") for e in published] == returned
    first_of_frame = {}
    for event in published:
        first_of_frame.setdefault(event.frame_id, event)  # type: ignore[attr-defined]
    assert [(e.type, f) for f, e in first_of_frame.items()] == [
        ("mood.observed", "f-a"), ("frame.failed", "f-broken"),
        ("mood.observed", "f-b"), ("frame.failed", "f-escape"),
    ]
    published = list(first_of_frame.values())
    for event in (published[0], published[2]):
        assert set(event.probabilities) == {"feed", "happy", "upset", "sleep"}  # type: ignore[attr-defined]
        assert sum(event.probabilities.values()) == pytest.approx(1.0, abs=1e-4)  # type: ignore[attr-defined]
        assert event.mood == max(event.probabilities, key=event.probabilities.get)  # type: ignore[attr-defined]
        assert event.model_version.startswith("mood-")  # type: ignore[attr-defined]
    assert "cannot decode" in published[1].error  # type: ignore[attr-defined]
    assert "outside the frames folder" in published[3].error  # type: ignore[attr-defined]

    # Redelivery publishes the same ids, so consumers count each frame once.
    again = celery.send_task("workers.vision.analyse_frames", args=[batch]).get(timeout=60)
    assert [e["id"] for e in again] == [e["id"] for e in returned]

    # A malformed message fails that task only; the worker keeps serving.
    bad = celery.send_task("workers.vision.analyse_frames", args=[[{"frame_id": 3}]])
    with pytest.raises(Exception, match=r"not a frame\.captured event"):
        bad.get(timeout=60)
    try:
        ok = celery.send_task("workers.vision.analyse_frames", args=[[frame("f-c", "cot/a.jpg")]])
        assert ok.get(timeout=60)[0]["type"] == "mood.observed"
    except CeleryTimeout:
        pytest.fail("the vision worker stopped serving after a bad message")
    assert worker.poll() is None
    assert json.loads(events_on(client, settings)[-1]["event"])["frame_id"] == "f-c"


def test_a_crawling_baby_near_the_stairs_is_captioned_and_raises_a_hazard(
    settings: Settings, sender: Celery, client: redis.Redis, tmp_path: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    """The demo mood and caption models share one backbone pass; a stairs scene becomes
    caption.observed and hazard.detected. Real photographs in the same batch are
    unfamiliar to both models and raise nothing, though the captioner still says "stairs"."""
    require((MODELS / "mood" / "demo.pt").is_file() and (MODELS / "caption" / "demo.pt").is_file(),
            "the demo models are missing: run `make setup`")
    frames_dir = tmp_path / "data" / "frames"
    (frames_dir / "cot").mkdir(parents=True)
    room = make_room("nursery", datetime(2026, 1, 1, tzinfo=UTC), random.Random(7))
    batch = []
    for seed in range(4):
        render_scene("crawling", 176, room, random.Random(seed)).save(frames_dir / "cot" / f"s{seed}.jpg")
        batch.append(frame(f"s{seed}", f"cot/s{seed}.jpg"))
    photos = real_photos()[:6]
    for n, photo in enumerate(photos):
        shutil.copyfile(photo, frames_dir / "cot" / f"real{n}{photo.suffix}")
        batch.append(frame(f"real{n}", f"cot/real{n}{photo.suffix}"))
    start_worker("vision", CRADLE_MODELS__DIR=str(MODELS))
    returned = sender.send_task("workers.vision.analyse_frames", args=[batch]).get(timeout=240)

    published = [parse_event(fields).model_dump(mode="json") for fields in events_on(client, settings)]
    assert published == returned
    captions = [e for e in returned if e["type"] == "caption.observed"]
    hazards = [e for e in returned if e["type"] == "hazard.detected"]
    moods = {e["frame_id"]: e for e in returned if e["type"] == "mood.observed"}
    assert [c["frame_id"] for c in captions] == [f"s{n}" for n in range(4)] + [f"real{n}" for n in range(6)]
    assert all(0 < c["score"] <= 1 for c in captions)
    stairs = {h["frame_id"] for h in hazards if h["kind"] == "near_stairs"}
    assert len(stairs) >= 3, captions
    assert {h["frame_id"] for h in hazards} <= {f"s{n}" for n in range(4)}  # never from a real photo
    for event in [*captions, *moods.values()]:
        real = event["frame_id"].startswith("real")
        assert event["familiar"] is not real and 0 <= event["novelty"] <= 2, event
    for hazard in (h for h in hazards if h["kind"] == "near_stairs"):
        assert hazard["severity"] == "urgent" and "stair" in hazard["caption"]
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-vision-*.log"))
    assert "one shared backbone pass: True" in log
