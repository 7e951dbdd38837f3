"""Vision tasks: frames in by reference; moods, captions and hazards out as events.

`analyse_frames` takes the frames that arrived together (the camera sends the latest
frame of each camera in one message) and puts them through the mood model and the
captioner, sharing one backbone pass when the two models allow it. Batching by message
keeps prefetch at 1 and acknowledgement late; celery-batches would need a prefetch above
its batch size, which breaks both.

For each frame: `mood.observed`, `caption.observed` and a `hazard.detected` per safety
rule the caption triggers, or `frame.failed` when the frame cannot be read. Moods,
captions and hazards carry the frame's reference (its `frame.captured` path), so their
consumers find the frame in the frame store (services/camera/store.py) without a search;
a reference outside the frames folder fails the frame. Moods and captions carry their
model's novelty and whether that model found the frame familiar (models/vision.py); a
frame unfamiliar to the captioner raises no hazard, whatever its caption says. Event ids
derive from the frame and the model version, so a redelivered task publishes the same
ids and consumers drop the repeats.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError

from models.caption.safety import DEFAULT_RULES, RuleSet, load_rules
from models.caption.serve import Caption
from models.mood.serve import MoodFailure
from models.vision import FrameAnalysis, SceneAnalyser, hazards, load_analyser, served_checkpoints
from services import tasks
from services.bus.events import (
    CaptionObserved,
    Event,
    FrameCaptured,
    FrameFailed,
    HazardDetected,
    MoodObserved,
    stable_id,
)
from services.bus.streams import write_event
from services.camera.store import FrameStore
from services.settings import Settings
from workers.base import ModelTask
from workers.celery_app import app

log = logging.getLogger(__name__)


class BadFrameMessage(ValueError):
    """A task message that does not describe frames; the task fails without a retry."""




@dataclass
class VisionModels:
    analyser: SceneAnalyser
    rules: RuleSet
    checkpoints: tuple[Path, Path]  # the mood and caption checkpoints it serves


def serving(settings: Settings) -> tuple[Path, Path]:
    models = settings.models
    return served_checkpoints(settings.models_dir, models.mood_checkpoint, models.caption_checkpoint)


def load_vision(settings: Settings) -> VisionModels:
    models = settings.models
    torch.set_num_threads(settings.vision_threads)  # this process's own share of the cores
    checkpoints = serving(settings)
    analyser = load_analyser(settings.models_dir, *checkpoints, device=models.device,
                             beam_size=models.caption_beam, max_batch=models.vision_batch)
    rules = load_rules(models.safety_rules or DEFAULT_RULES, periods={"night": settings.family.night})
    return VisionModels(analyser, rules, checkpoints)


class VisionTask(ModelTask):
    """Loads the serving models on first use, and again when the registry promotes or
    rolls back a version: each task checks which checkpoints serve (two small files),
    so the next batch after a promotion is analysed by the new models, no task is lost
    or repeated, and no worker restarts."""

    abstract = True

    def load_model(self) -> VisionModels:
        return load_vision(self.settings)

    @property
    def model(self) -> VisionModels:
        loaded: VisionModels = super().model
        wanted = serving(self.settings)
        if loaded.checkpoints != wanted:
            with self._lock:
                log.info("serving new vision models: %s, %s", *wanted)
                self.__dict__["_model"] = loaded = load_vision(self.settings)
        return loaded


def parse_frames(frames: Any) -> list[FrameCaptured]:
    if not isinstance(frames, list) or not frames:
        raise BadFrameMessage("analyse_frames takes a non-empty list of frame.captured events")
    try:
        return [FrameCaptured.model_validate(frame) for frame in frames]
    except ValidationError as exc:
        raise BadFrameMessage(f"not a frame.captured event: {exc.errors()[0]['msg']}") from exc


def frame_events(
    frame: FrameCaptured, analysis: FrameAnalysis, rules: RuleSet, settings: Settings
) -> list[Event]:
    """The events one analysed frame produces."""
    where = dict(frame_id=frame.frame_id, camera=frame.camera, child=frame.child, source="vision")
    mood = analysis.mood
    if isinstance(mood, MoodFailure):
        return [FrameFailed(id=stable_id("failed", frame.frame_id), error=mood.error, **where)]
    where["path"] = frame.path  # the frame's reference: consumers need no search
    events: list[Event] = [
        MoodObserved(
            id=stable_id("mood", frame.frame_id, mood.model_version), mood=mood.mood,
            probabilities=mood.probabilities, model_version=mood.model_version,
            novelty=_bounded(mood.novelty), familiar=mood.familiar, **where,
        )
    ]
    caption = analysis.caption
    if isinstance(caption, Caption):
        events.append(
            CaptionObserved(
                id=stable_id("caption", frame.frame_id, caption.model_version), text=caption.text,
                score=min(1.0, max(0.0, caption.confidence)), model_version=caption.model_version,
                novelty=_bounded(caption.novelty), familiar=caption.familiar, tags=list(caption.tags),
                **where,
            )
        )
        when = settings.family.local(frame.captured_at)
        for hazard in hazards(analysis, rules, when):  # none from a view the models were not taught
            events.append(
                HazardDetected(
                    id=stable_id("hazard", frame.frame_id, hazard.rule, caption.model_version),
                    kind=hazard.kind, severity=hazard.severity, caption=caption.text, rule=hazard.rule,
                    model_version=caption.model_version, **where,
                )
            )
    return events


def _bounded(novelty: float | None) -> float | None:
    """A cosine distance, kept inside [0, 2] against rounding."""
    return None if novelty is None else min(2.0, max(0.0, novelty))


def analyse(task: VisionTask, frames: list[FrameCaptured]) -> list[Event]:
    """The events for `frames`, in frame order."""
    vision: VisionModels = task.model
    settings = task.settings
    store = FrameStore.of(settings)
    files = [store.file(frame.path) for frame in frames]
    readable = [path for path in files if path is not None]
    analyses = iter(vision.analyser.analyse(readable))
    events: list[Event] = []
    for frame, path in zip(frames, files, strict=True):
        if path is None:
            error = f"{frame.path} is outside the frames folder"
            events.append(FrameFailed(
                id=stable_id("failed", frame.frame_id), error=error, frame_id=frame.frame_id,
                camera=frame.camera, child=frame.child, source="vision",
            ))
            continue
        events += frame_events(frame, next(analyses), vision.rules, settings)
    return events


def publish(task: VisionTask, events: list[Event]) -> None:
    """All of a batch's events in one MULTI transaction: one round trip instead of one per
    event, and a worker killed mid-batch leaves none of them, so the redelivered task
    publishes the batch whole (its ids are the same, consumers drop the repeats)."""
    with task.publisher.client.pipeline(transaction=True) as pipe:
        for event in events:
            write_event(pipe, task.settings.bus, event)
        pipe.execute()


@app.task(name=tasks.ANALYSE_FRAMES, base=VisionTask, bind=True)
def analyse_frames(self: VisionTask, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Publishes each frame's events (see the module docstring) and returns them."""
    events = analyse(self, parse_frames(frames))
    publish(self, events)
    return [event.model_dump(mode="json") for event in events]
