"""Small test videos and settings for the camera tests."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import redis
from PIL import Image, ImageDraw

from services.bus.events import Event, parse_event
from services.camera.demo import write_clip
from services.camera.ingest import Ingest
from services.settings import Settings, load_settings

E = TypeVar("E", bound=Event)


def moving_square(size: int, step: int, frames: int) -> list[Image.Image]:
    """A white square sliding over grey: every frame differs from the one before."""
    pictures = []
    for n in range(frames):
        image = Image.new("RGB", (size, size), (90, 90, 90))
        x = (n * step) % (size - 40)
        ImageDraw.Draw(image).rectangle((x, 40, x + 40, 80), fill=(250, 250, 250))
        pictures.append(image)
    return pictures


def moving_clip(path: Path, *, seconds: float = 2.0, fps: int = 10) -> Path:
    frames = round(seconds * fps)
    return write_clip(path, moving_square(128, 7, frames), fps=fps, hold_s=1 / fps)


def still_clip(path: Path, *, seconds: float = 2.0, fps: int = 10) -> Path:
    noise = np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    return write_clip(path, [Image.fromarray(noise)], fps=fps, hold_s=seconds)


def camera_settings(base: Settings, cameras: list[dict[str, Any]], **camera: Any) -> Settings:
    """`base` with these cameras and camera settings (same Redis and data folder)."""
    return load_settings(redis={"url": base.redis.url}, data_dir=base.data_dir, environment="test",
                         celery=base.celery.model_dump(), camera={"cameras": cameras, **camera})


@contextlib.contextmanager
def running(ingest: Ingest) -> Iterator[Ingest]:
    """The ingest loop in a thread, stopped (with its cameras) on leaving."""
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    ingest.start()
    loop.start()
    try:
        yield ingest
    finally:
        stop.set()
        loop.join(10)
        ingest.stop()


def bus_events(client: redis.Redis, settings: Settings, kind: type[E]) -> list[tuple[float, E]]:
    """(seconds when published, event) for each event of `kind` on the stream."""
    found = []
    for entry_id, fields in client.xrange(settings.bus.stream) or []:
        event = parse_event(fields)  # type: ignore[arg-type]
        if isinstance(event, kind):
            found.append((int(str(entry_id).split("-")[0]) / 1000, event))
    return found
