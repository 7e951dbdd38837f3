"""Frames on disk: frames_dir/<camera>/<YYYY-MM-DD>/<HHMMSS.mmm>-<frame id>.jpg.

Events and tasks name a frame by its path relative to frames_dir. `prune` removes frames
older than the retention, then the oldest until the folder fits its disk budget.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    by_age: int
    by_budget: int
    kept: int
    kept_bytes: int


class FrameStore:
    def __init__(self, root: Path, *, quality: int = 85, max_side: int = 1280) -> None:
        self.root, self.quality, self.max_side = root, quality, max_side

    def save(self, camera: str, frame_id: str, rgb: np.ndarray, taken: datetime) -> str:
        """Write the JPEG; returns its path relative to the frames folder. Raises OSError
        (a full disk, say), leaving nothing of the frame on disk."""
        relative = Path(camera) / taken.strftime("%Y-%m-%d") / (
            f"{taken.strftime('%H%M%S')}.{taken.microsecond // 1000:03d}-{frame_id}.jpg"
        )
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(rgb)
        if max(image.size) > self.max_side:
            image.thumbnail((self.max_side, self.max_side), Image.Resampling.BILINEAR)
        scratch = target.with_suffix(".part")
        try:
            image.save(scratch, format="JPEG", quality=self.quality)
        except OSError:  # a full disk: leave no half a file behind
            scratch.unlink(missing_ok=True)
            raise
        scratch.replace(target)  # the worker never sees half a file
        return relative.as_posix()

    def _frames(self) -> list[tuple[float, int, Path]]:
        found = []
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.endswith(".jpg"):
                    path = Path(folder) / name
                    try:
                        stat = path.stat()
                    except FileNotFoundError:
                        continue
                    found.append((stat.st_mtime, stat.st_size, path))
        found.sort()
        return found

    def prune(self, *, now: float, retention_s: float, budget_bytes: int) -> Pruned:
        """Remove frames older than `retention_s`, then the oldest over `budget_bytes`."""
        frames = self._frames()
        total = sum(size for _mtime, size, _path in frames)
        by_age = by_budget = 0
        for mtime, size, path in frames:
            too_old = now - mtime > retention_s
            if not too_old and total <= budget_bytes:
                break  # sorted oldest first: everything after is newer and fits
            path.unlink(missing_ok=True)
            total -= size
            by_age, by_budget = (by_age + 1, by_budget) if too_old else (by_age, by_budget + 1)
        self._remove_empty_folders()
        kept = len(frames) - by_age - by_budget
        if by_age or by_budget:
            log.info("removed %d old frames and %d over the disk budget; %d kept (%.1f MB)",
                     by_age, by_budget, kept, total / 1e6)
        return Pruned(by_age, by_budget, kept, total)

    def _remove_empty_folders(self) -> None:
        for folder, _dirs, _files in os.walk(self.root, topdown=False):
            if Path(folder) != self.root:
                with contextlib.suppress(OSError):  # not empty: a frame is still there
                    Path(folder).rmdir()
