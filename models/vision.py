"""What the vision worker runs: mood and caption for each frame, in one backbone pass
when the two models share their backbone (both frozen on the same ImageNet weights at
the same crop size, as the demo models are), in two passes otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from models.caption.serve import Caption, Captioner, CaptionFailure
from models.mood.serve import MoodFailure, MoodPredictor, MoodResult


@dataclass(frozen=True)
class FrameAnalysis:
    path: Path
    mood: MoodResult | MoodFailure
    caption: Caption | CaptionFailure | None  # None when no captioner is loaded


class SceneAnalyser:
    def __init__(self, mood: MoodPredictor, captioner: Captioner | None = None) -> None:
        self.mood = mood
        self.captioner = captioner
        self.shared = captioner is not None and captioner.shares_backbone(
            mood.model.backbone, mood.model.config.image_size
        )

    def analyse(self, paths: Sequence[Path]) -> list[FrameAnalysis]:
        """One analysis per path, in order."""
        paths = [Path(p) for p in paths]
        if self.captioner is None:
            moods = self.mood.predict_paths(paths)
            return [FrameAnalysis(p, m, None) for p, m in zip(paths, moods, strict=True)]
        if not self.shared:
            moods = self.mood.predict_paths(paths)
            captions = self.captioner.describe_paths(paths)
            return [FrameAnalysis(*row) for row in zip(paths, moods, captions, strict=True)]
        analyses: list[FrameAnalysis] = []
        for first in range(0, len(paths), self.mood.max_batch):
            analyses += self._shared_pass(paths[first:first + self.mood.max_batch])
        return analyses

    @torch.inference_mode()
    def _shared_pass(self, paths: list[Path]) -> list[FrameAnalysis]:
        assert self.captioner is not None
        images, rows, failures = self.mood.load(paths)
        done: dict[int, FrameAnalysis] = {
            row: FrameAnalysis(paths[row], failure, CaptionFailure(paths[row], failure.error))
            for row, failure in failures.items()
        }
        if images is not None:
            decoded = [paths[row] for row in rows]
            with self.mood.precision.autocast():
                feature_map = self.mood.model.backbone(images)  # (N,3,S,S) -> (N,C,h,w), once
                probs = self.mood.model.predict_features(feature_map)  # (N,K)
            moods = self.mood.results(probs, decoded)
            captions = self.captioner.describe_features(feature_map.float(), decoded)
            for row, mood, caption in zip(rows, moods, captions, strict=True):
                done[row] = FrameAnalysis(paths[row], mood, caption)
        return [done[row] for row in range(len(paths))]
