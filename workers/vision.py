"""Vision tasks: frames in by reference, moods out as events.

`analyse_frames` takes the frames that arrived together (the camera sends the latest
frame of each camera in one message) and puts them through the mood model in one pass.
Batching by message keeps prefetch at 1 and acknowledgement late; celery-batches would
need a prefetch above its batch size, which breaks both.

Event ids are derived from the frame and the model version, so a redelivered task
publishes the same ids and consumers drop the repeats.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.mood.demo import demo_path
from models.mood.serve import MoodFailure, MoodPredictor
from services.bus.events import Event, FrameCaptured, FrameFailed, MoodObserved
from workers.base import ModelTask
from workers.celery_app import app


class BadFrameMessage(ValueError):
    """A task message that does not describe frames; the task fails without a retry."""


def stable_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def frame_file(frames_dir: Path, relative: str) -> Path | None:
    """The frame's file, or None when the reference points outside the frames folder."""
    path = (frames_dir / relative).resolve()
    return path if path.is_relative_to(frames_dir) else None


def device_for(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class VisionTask(ModelTask):
    abstract = True

    def load_model(self) -> MoodPredictor:
        models = self.settings.models
        checkpoint = models.mood_checkpoint or demo_path(self.settings.models_dir)
        return MoodPredictor(
            checkpoint,
            device_for(models.device),
            weights_dir=self.settings.models_dir,
            max_batch=models.vision_batch,
        )


def parse_frames(frames: Any) -> list[FrameCaptured]:
    if not isinstance(frames, list) or not frames:
        raise BadFrameMessage("analyse_frames takes a non-empty list of frame.captured events")
    try:
        return [FrameCaptured.model_validate(frame) for frame in frames]
    except ValidationError as exc:
        raise BadFrameMessage(f"not a frame.captured event: {exc.errors()[0]['msg']}") from exc


def analyse(task: VisionTask, frames: list[FrameCaptured]) -> list[Event]:
    """The events for `frames`, in order: a mood for each readable frame, else a failure."""
    predictor: MoodPredictor = task.model
    frames_dir = task.settings.frames_dir
    files = [frame_file(frames_dir, frame.path) for frame in frames]
    readable = [(frame, path) for frame, path in zip(frames, files, strict=True) if path is not None]
    results = iter(predictor.predict_paths([path for _frame, path in readable]))
    events: list[Event] = []
    for frame, path in zip(frames, files, strict=True):
        where = dict(frame_id=frame.frame_id, camera=frame.camera, child=frame.child, source="vision")
        result = next(results) if path is not None else None
        if result is None or isinstance(result, MoodFailure):
            error = result.error if result else f"{frame.path} is outside the frames folder"
            events.append(
                FrameFailed(id=stable_id("failed", frame.frame_id, predictor.version), error=error, **where)
            )
        else:
            events.append(
                MoodObserved(
                    id=stable_id("mood", frame.frame_id, result.model_version),
                    mood=result.mood,
                    probabilities=result.probabilities,
                    model_version=result.model_version,
                    **where,
                )
            )
    return events


@app.task(name="workers.vision.analyse_frames", base=VisionTask, bind=True)
def analyse_frames(self: VisionTask, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mood for each frame; publishes MoodObserved or FrameFailed per frame, returns them."""
    events = analyse(self, parse_frames(frames))
    for event in events:
        self.publisher.publish(event)
    return [event.model_dump(mode="json") for event in events]
