"""The motion gate: a frame goes on only when enough of the picture changed.

Frames are compared as small grey images (64 pixels wide, blurred), which ignores sensor
noise and JPEG artefacts and costs well under a millisecond. The comparison is with the
last frame let through, not the previous sample, so a slow change (a baby rolling over
across several samples) adds up until it counts. `still_every_s` lets a frame through
anyway now and then, so a child sleeping perfectly still is still seen.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

WIDTH = 64


def small_grey(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (h, 64) int16 grey, blurred."""
    height, width = rgb.shape[:2]
    small = Image.fromarray(rgb).convert("L").resize(
        (WIDTH, max(1, round(WIDTH * height / width))), Image.Resampling.BILINEAR
    )
    return np.asarray(small.filter(ImageFilter.BoxBlur(1)), dtype=np.int16)


class MotionGate:
    def __init__(self, threshold: float, pixel_delta: int, still_every_s: float) -> None:
        self.threshold, self.pixel_delta, self.still_every_s = threshold, pixel_delta, still_every_s
        self._reference: np.ndarray | None = None
        self._passed_at = 0.0

    def changed(self, grey: np.ndarray) -> float:
        """Share of pixels that differ from the last frame let through (1.0 for the first)."""
        if self._reference is None or self._reference.shape != grey.shape:
            return 1.0
        return float(np.mean(np.abs(grey - self._reference) > self.pixel_delta))

    def admit(self, rgb: np.ndarray, now: float) -> bool:
        """Whether this frame goes on; if so it becomes the new reference."""
        grey = small_grey(rgb)
        moving = self.threshold == 0 or self.changed(grey) >= self.threshold
        due = self.still_every_s > 0 and now - self._passed_at >= self.still_every_s
        if moving or due or self._reference is None:
            self._reference, self._passed_at = grey, now
            return True
        return False
