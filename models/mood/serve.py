"""Serving: a checkpoint loaded once, frames in, one result per frame out.

The vision worker calls `MoodPredictor.predict_paths` with the frames that arrived
together; decodable frames go through the network in one forward pass, and a frame that
cannot be decoded gets a `MoodFailure` saying why instead of failing the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from models.images import DataError, open_rgb
from models.mood.loops import Precision
from models.mood.model import default_device, load_model
from models.transforms import eval_transform


@dataclass(frozen=True)
class MoodResult:
    path: Path
    mood: str  # the most probable class
    probabilities: dict[str, float]  # class -> probability, summing to 1
    model_version: str


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
        results: list[MoodResult | MoodFailure] = []
        for first in range(0, len(paths), self.max_batch):
            results += self._batch([Path(p) for p in paths[first:first + self.max_batch]])
        return results

    def load(self, paths: list[Path]) -> tuple[torch.Tensor | None, list[int], dict[int, MoodFailure]]:
        """Decode and transform frames: (images (N,3,S,S) on the device, the rows they
        came from, a failure for each row that could not be decoded)."""
        tensors, rows, failures = [], [], {}
        for row, path in enumerate(paths):
            try:
                tensors.append(self.transform(open_rgb(path)))  # (3,S,S)
                rows.append(row)
            except DataError as exc:
                failures[row] = MoodFailure(path, str(exc))
        images = self.precision.inputs(torch.stack(tensors)) if tensors else None  # (N,3,S,S)
        return images, rows, failures

    def results(self, probs: torch.Tensor, paths: list[Path]) -> list[MoodResult]:
        """Probabilities (N,K) -> one MoodResult per path."""
        results = []
        for path, p in zip(paths, probs.cpu().tolist(), strict=True):
            best = max(range(len(p)), key=p.__getitem__)
            results.append(MoodResult(path, self.classes[best],
                                      dict(zip(self.classes, p, strict=True)), self.version))
        return results

    def _batch(self, paths: list[Path]) -> list[MoodResult | MoodFailure]:
        images, rows, failures = self.load(paths)
        done: dict[int, MoodResult | MoodFailure] = dict(failures)
        if images is not None:
            with self.precision.autocast():
                probs = self.model.predict(images)  # (N,K)
            done.update(zip(rows, self.results(probs, [paths[r] for r in rows]), strict=True))
        return [done[row] for row in range(len(paths))]
