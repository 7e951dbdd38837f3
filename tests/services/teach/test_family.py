"""A simulated family teaches Cradle its nursery, end to end.

A new synthetic room style (wallpaper, a wooden floor, a warm wide lens: models/scenes.py
"papered") that the demo models find unfamiliar; the real vision worker says so; a
parent labels the frames through the real routes; a retraining run in a real training
worker promotes both models; the same vision worker, never restarted, serves them from
its next batch, and the family's frames are familiar and read right. Then labels
shuffled at random make a candidate the gate refuses, and the good models keep serving.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from fastapi.testclient import TestClient

from models.caption.demo import HAZARD_SCENES
from models.registry import Registry
from models.scenes import TAGS_OF, synthesize
from services.bus.events import FrameCaptured, MoodObserved, parse_event
from services.gateway.app import create_app
from services.labels import LabelStore
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings, load_settings
from services.teach import job
from services.timeline.store import Timeline
from tests.conftest import ROOT, require, wait_for
from tests.services.gateway.conftest import token

MODELS = ROOT / "var" / "models"
TEACH = {"augment": False, "mood_epochs": 20, "caption_epochs": 12, "min_per_mood": 5, "min_tagged": 20,
         "min_new_labels": 1, "hour": None}
IMAGES, ROOMS = 480, 8  # two rooms a day, four days: one day is held out


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """The demo models and the ImageNet backbone, in a models folder of the test's own (the
    registry writes there)."""
    require((MODELS / "mood" / "demo.pt").is_file() and (MODELS / "caption" / "demo.pt").is_file(),
            "the demo models are missing: run `make setup`")
    folder = tmp_path / "models"
    for family in ("mood", "caption"):
        (folder / family).mkdir(parents=True)
        shutil.copyfile(MODELS / family / "demo.pt", folder / family / "demo.pt")
    (folder / "backbones").symlink_to(MODELS / "backbones", target_is_directory=True)
    return folder


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path, models_dir: Path) -> Settings:
    return load_settings(redis={"url": redis_server.url}, data_dir=tmp_path / "data", environment="test",
                         rasa={"enabled": False}, models={"dir": str(models_dir), "device": "cpu"},
                         family={"children": [{"id": "Mia", "name": "Mia", "pronoun": "she"}]}, teach=TEACH)


def worker_env(models_dir: Path) -> dict[str, str]:
    env = {"CRADLE_MODELS__DIR": str(models_dir), "CRADLE_MODELS__DEVICE": "cpu"}
    env.update({f"CRADLE_TEACH__{k.upper()}": json.dumps(v) for k, v in TEACH.items()})
    return env


def the_family(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """The family's frames, as their camera stored them over the last four days."""
    scenes = synthesize(settings.data_dir / "synth", images=IMAGES, sessions=ROOMS, size=176, seed=2027,
                        style="papered")
    rows = {row["image"]: row for row in csv.DictReader(scenes.open())}
    frames = []
    for n, (image, row) in enumerate(sorted(rows.items())):
        room = int(row["session"].removeprefix("room"))
        drawn = datetime.fromisoformat(row["captured_at"])
        at = (now - timedelta(days=4 - room // 2)).replace(hour=drawn.hour, minute=drawn.minute,
                                                          second=n % 60, microsecond=0)
        frame_id = f"fam{n:04d}"
        relative = f"cot/{at:%Y-%m-%d}/{at:%H%M%S}.000-{frame_id}.jpg"
        (settings.frames_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scenes.parent / image, settings.frames_dir / relative)
        frames.append({"frame_id": frame_id, "path": relative, "at": at, "scene": row["scene"],
                       "mood": row["mood"] or None, "tags": list(TAGS_OF[row["scene"]])})
    return frames


def analyse(sender: Celery, frames: list[dict[str, Any]]) -> list[Any]:
    """The frames through the real vision worker, 16 at a time; its events."""
    events = []
    for first in range(0, len(frames), 16):
        batch = [FrameCaptured(frame_id=f["frame_id"], camera="cot", child="Mia", path=f["path"],
                               captured_at=f["at"]).model_dump(mode="json") for f in frames[first:first + 16]]
        returned = sender.send_task("workers.vision.analyse_frames", args=[batch]).get(timeout=240)
        events += [parse_event({"event": json.dumps(e)}) for e in returned]
    return events


def served(frames: list[dict[str, Any]], events: list[Any]) -> dict[str, float]:
    """What the family would see: moods right from familiar frames, hazards raised."""
    moods = {e.frame_id: e for e in events if e.type == "mood.observed"}
    hazards = {(e.frame_id, e.kind) for e in events if e.type == "hazard.detected"}
    dangers = [f for f in frames if f["scene"] in HAZARD_SCENES]
    mooded = [f for f in frames if f["mood"]]
    return {
        "familiar": sum(moods[f["frame_id"]].familiar for f in frames) / len(frames),
        "moods_right": sum(moods[f["frame_id"]].familiar and moods[f["frame_id"]].mood == f["mood"]
                           for f in mooded) / len(mooded),
        "hazards_found": sum((f["frame_id"], HAZARD_SCENES[f["scene"]]) in hazards
                             for f in dangers) / len(dangers),
        "false_hazards": sum(any(h[0] == f["frame_id"] for h in hazards) for f in frames
                             if f["scene"] not in HAZARD_SCENES) / len(frames),
    }


def train_and_wait(gateway: TestClient, client: redis.Redis, auth: dict[str, str]) -> dict[str, Any]:
    client.delete(job.LAST)
    answer = gateway.post("/api/teach/train", headers=auth)
    assert answer.status_code == 202, answer.text
    raw = wait_for(lambda: client.get(job.LAST), timeout=600, interval=2, what="the training run")
    outcome: dict[str, Any] = json.loads(raw)
    return outcome


def test_a_family_teaches_cradle_its_nursery_and_a_bad_candidate_is_refused(
    settings: Settings, client: redis.Redis, sender: Celery, models_dir: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    now = datetime.now(UTC)
    frames = the_family(settings, now)
    vision = start_worker("vision", **worker_env(models_dir))
    start_worker("training", **worker_env(models_dir))

    # 1. A camera the demo models were not taught: the worker says so, and raises nothing.
    before = analyse(sender, frames)
    first = served(frames, before)
    assert first["familiar"] <= 0.05 and first["moods_right"] <= 0.05, first
    assert first["hazards_found"] == 0 and first["false_hazards"] == 0, first
    timeline = Timeline(client)
    at = {f["frame_id"]: f["at"] for f in frames}
    for frame in frames:
        timeline.add(FrameCaptured(frame_id=frame["frame_id"], camera="cot", child="Mia", path=frame["path"],
                                   captured_at=frame["at"], occurred_at=frame["at"]))
    for event in before:  # the camera ran over four days: each mood at its frame's time
        if isinstance(event, MoodObserved):
            timeline.add(event.model_copy(update={"occurred_at": at[event.frame_id]}))

    # 2. A parent labels every frame on the Teach screen's routes, day by day.
    with TestClient(create_app(settings)) as gateway:
        anna = token(client, "Anna")
        for frame in sorted(frames, key=lambda f: f["at"]):
            said = {"frame_id": frame["frame_id"], "child": "Mia", "mood": frame["mood"],
                    "tags": frame["tags"]}
            answer = gateway.post("/api/labels", json=said, headers=anna)
            assert answer.status_code == 201, answer.text
        teach = gateway.get("/api/teach", headers=anna).json()
        assert teach["needs"] == {"mood": [], "caption": []} and teach["counts"]["frames"] == IMAGES
        sides = LabelStore.of(client, settings).sides()
        held = [f for f in frames if sides[f"cot-{f['at']:%Y-%m-%d}"] == "held_out"]
        assert 0 < len(held) < IMAGES / 2

        # 3. A training run on the training worker promotes both models.
        outcome = train_and_wait(gateway, client, anna)
        assert outcome["models"]["mood"]["promoted"], outcome
        assert outcome["models"]["caption"]["promoted"], outcome
        mood_version = Registry(models_dir, "mood").current()
        caption_version = Registry(models_dir, "caption").current()
        assert mood_version is not None and caption_version is not None
        promoted = [parse_event(fields) for _id, fields in client.xrange(settings.bus.stream)]
        assert {e.family for e in promoted if e.type == "model.promoted"} == {"mood", "caption"}
        picture = gateway.get(f"/api/teach/pictures/mood/{mood_version.name}/mood-confusion.png",
                              headers=anna)
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")

        # 4. The same vision worker serves them from its next batch: the family's own
        #    kept-aside frames are familiar, their moods and hazards right.
        after = analyse(sender, held)
        assert vision.poll() is None  # never restarted
        taught = served(held, after)
        # About 100 held-out frames have a mood and the taught model reads some 75% of them
        # right (bench/results/teach.md): one standard error is 4 points, so the floor sits
        # three below, where a good run cannot fall and the untaught demo's 0% cannot reach.
        assert taught["familiar"] >= 0.85 and taught["moods_right"] >= 0.62, taught
        assert taught["hazards_found"] >= 0.7 and taught["false_hazards"] <= 0.1, taught
        versions = {e.model_version for e in after if e.type in ("mood.observed", "caption.observed",
                                                                 "hazard.detected")}
        assert versions == {mood_version.name, caption_version.name}  # each event names its model

        # 5. Labels shuffled at random: the gate refuses the candidate, the good models stay.
        store = LabelStore.of(client, settings)
        rng = random.Random(0)
        shuffled = [(f["mood"], f["tags"]) for f in frames]
        rng.shuffle(shuffled)
        for frame, (mood, tags) in zip(frames, shuffled, strict=True):
            label = store.get(frame["frame_id"])
            assert label is not None
            store.label(label.path, frame["frame_id"], child="Mia", camera="cot", session=label.session,
                        by="a gremlin", at=now, mood=mood, tags=tags or ["in_cot"])
        refused = train_and_wait(gateway, client, anna)
        for family in ("mood", "caption"):
            assert refused["models"][family]["trained"] and not refused["models"][family]["promoted"], refused
            assert refused["models"][family]["why"]
        assert Registry(models_dir, "mood").current() == mood_version
        assert Registry(models_dir, "caption").current() == caption_version
        told = gateway.get("/api/teach", headers=anna).json()
        assert told["last_run"]["models"]["mood"]["promoted"] is False
        assert told["serving"]["mood"]["version"] == mood_version.name
