"""The frame store: the one owner of where camera frames lie on disk and how one is found.

    frames_dir/<camera>/<YYYY-MM-DD>/<HHMMSS.mmm>-<frame id>.jpg    (the capture time, UTC)

A frame's reference is that path relative to frames_dir. Camera ingest `save`s a frame
and puts the reference on its `frame.captured` event; the vision worker passes it on to
the `mood.observed`, `caption.observed` and `hazard.detected` events the frame yields, so
a consumer turns an event into its JPEG with `find` and searches nothing. Events stored
before they carried the reference are found by the file naming (a scan of the frames
folder, of one camera's when the camera is known). No lookup leads outside frames_dir.
`prune` removes frames older than the retention, then the oldest until the folder fits
its disk budget.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from services.settings import Settings

log = logging.getLogger(__name__)
FRAME_ID = r"^[A-Za-z0-9_-]{1,64}$"  # what a frame id looks like (no path or glob characters)
_FRAME_ID = re.compile(FRAME_ID)


@dataclass(frozen=True)
class Pruned:
    by_age: int
    by_budget: int
    kept: int
    kept_bytes: int


class FrameStore:
    """Frames under `root` (the settings' frames_dir)."""

    def __init__(self, root: Path, *, quality: int = 85, max_side: int = 1280) -> None:
        self.root, self.quality, self.max_side = root, quality, max_side

    @classmethod
    def of(cls, settings: Settings) -> FrameStore:
        """The family's frames, stored as the camera settings say."""
        camera = settings.camera
        return cls(settings.frames_dir, quality=camera.jpeg_quality, max_side=camera.max_side)

    @staticmethod
    def reference(camera: str, frame_id: str, taken: datetime) -> str:
        """Where a frame taken at `taken` is stored, relative to the frames folder."""
        name = f"{taken.strftime('%H%M%S')}.{taken.microsecond // 1000:03d}-{frame_id}.jpg"
        return (Path(camera) / taken.strftime("%Y-%m-%d") / name).as_posix()

    def save(self, camera: str, frame_id: str, rgb: np.ndarray, taken: datetime) -> str:
        """Write the JPEG; returns its reference (its path relative to the frames folder).
        Raises OSError (a full disk, say), leaving nothing of the frame on disk."""
        relative = self.reference(camera, frame_id, taken)
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
        return relative

    def file(self, reference: str) -> Path | None:
        """The file a reference names (there or not), or None when it would lie outside
        the frames folder."""
        root = self.root.resolve()
        path = (root / reference).resolve()
        return path if path.is_relative_to(root) else None

    def find(self, frame_id: str, reference: str | None = None, camera: str | None = None) -> Path | None:
        """Where frame `frame_id`'s JPEG lies: at `reference` (the path its events carry)
        when given and there, else by the file naming, among `camera`'s frames when
        given. None when it is gone (pruned), or the id or reference would lead outside
        the frames folder."""
        if not _FRAME_ID.match(frame_id):
            return None
        if reference:  # the event's own path: no folder scan when the file is where it says
            path = self.file(reference)
            if path is not None and path.is_file():
                return path
        root = self.root.resolve()
        for candidate in self.frames(camera, frame_id):  # an event from before events carried it
            path = candidate.resolve()
            if path.is_relative_to(root):  # a camera named "../x" finds nothing outside
                return path
        return None

    def frames(self, camera: str | None = None, frame_id: str | None = None) -> list[Path]:
        """The stored frames, of one camera when `camera` is given, of one id when
        `frame_id` is; sorted by camera, day and time."""
        folder = _glob_escape(camera) if camera else "*"
        name = f"*-{_glob_escape(frame_id)}.jpg" if frame_id else "*.jpg"
        return sorted(self.root.glob(f"{folder}/*/{name}")) if self.root.is_dir() else []

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


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)
