"""Serving: a checkpoint loaded once, frames in, one result per frame out.

The vision worker calls `MoodPredictor.predict_paths` with the frames that arrived
together; decodable frames go through the network in one forward pass, and a frame that
cannot be decoded gets a `MoodFailure` saying why instead of failing the whole batch
(models/batches.py).
Each mood carries the frame's novelty against the photos the model was trained on,
scored on the same pooled features as the mood (models/familiarity.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from models.batches import in_batches
from models.checkpoints import default_device
from models.mood.loops import Precision
from models.mood.model import load_model
from models.transforms import eval_transform


@dataclass(frozen=True)
class MoodResult:
    path: Path
    mood: str  # the most probable class
    probabilities: dict[str, float]  # class -> probability, summing to 1
    model_version: str
    novelty: float | None = None  # distance to the training photos; None: the model has no statistics
    familiar: bool = False  # novelty within the threshold set at training time


@dataclass(frozen=True)
class MoodFailure:
    path: Path
    error: str  # what was wrong with the frame, for the FrameFailed event


class MoodPredictor:
    """Loads a mood checkpoint once; `predict_paths` turns frames into moods."""

    def __init__(
        self, checkpoint: Path, device: torch.device | str | None = None, *,
        weights_dir: Path | None = None, max_batch: int = 32,
    ) -> None:
        self.device = torch.device(device) if device else default_device()
        self.model = load_model(checkpoint, self.device, weights_dir=weights_dir)
        self.classes = self.model.config.classes
        self.version = self.model.version
        self.transform = eval_transform(self.model.config.image_size)
        # channels-last pays on CPU too: 1.4-1.7x in bench/results/mood.md
        self.precision = Precision(self.device, amp=self.device.type == "cuda",
                                   channels_last=True)
        self.model.to(memory_format=torch.channels_last)
        self.max_batch = max_batch

    def predict_paths(self, paths: Sequence[Path | str]) -> list[MoodResult | MoodFailure]:
        """One result per path, in order; batches of up to `max_batch` frames per pass."""
        return in_batches(paths, self.max_batch, self.transform, self.predict_images, MoodFailure)

    @torch.inference_mode()
    def predict_images(self, images: torch.Tensor, paths: list[Path]) -> list[MoodResult]:
        """Normalised images (N,3,S,S) from `self.transform` -> one MoodResult per frame."""
        self.model.eval()
        with self.precision.autocast():
            features = self.model.embed(self.precision.inputs(images))  # (N,3,S,S) -> (N,C)
        return self.results(features.float(), paths)

    def results(self, features: torch.Tensor, paths: list[Path]) -> list[MoodResult]:
        """Pooled backbone features (N,C) -> one MoodResult per path: the mood and how
        familiar the frame is."""
        with self.precision.autocast():
            probs = self.model.predict_pooled(features)  # (N,K)
        known = self.model.familiarity
        novelty: list[float | None] = (known.scores(features).tolist() if known is not None
                                       else [None] * len(paths))
        results = []
        for path, p, n in zip(paths, probs.cpu().tolist(), novelty, strict=True):
            best = max(range(len(p)), key=p.__getitem__)
            results.append(MoodResult(path, self.classes[best],
                                      dict(zip(self.classes, p, strict=True)), self.version, n,
                                      known is not None and n is not None and known.familiar(n)))
        return results
