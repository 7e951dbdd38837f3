"""Reading photos and frames, shared by the mood classifier and the captioner."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError


class DataError(ValueError):
    """Data Cradle cannot use as given (an unreadable image, a malformed labels file);
    the message says what to fix."""


def open_rgb(path: Path) -> Image.Image:
    """Decode an image fully (truncated files fail here, not mid-batch) as RGB."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot decode {path}: {exc}") from exc
