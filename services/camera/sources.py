"""Where pictures come from, behind one small interface.

A `Source` is opened by `open_source(url)` and then `read()` blocks until its next
picture (or raises `SourceError`); `close()` lets it go. Kinds:

- `AvSource`: RTSP and HTTP video streams and video files, decoded by PyAV (FFmpeg).
  A file is played at its own pace, as a camera would send it, and loops if asked.
- `SnapshotSource`: an HTTP URL answering one JPEG per request, asked at the sample rate.
- `FolderSource`: a folder a camera writes images into; the newest image is the picture.

Every read waits at most `timeout_s`; a source that says nothing for that long fails,
which is how a camera that hangs without closing the connection is noticed.
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import av
import httpx
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class SourceError(RuntimeError):
    """The camera cannot be opened or stopped sending pictures; the message says why."""


class Picture:
    """One picture of a source. A video frame becomes RGB pixels only when they are looked
    at: a feed reads every frame to stay current, the ingest samples one a second, so
    converting the others (nine in ten of a 10 fps camera) would be work thrown away."""

    def __init__(self, pixels: np.ndarray | Callable[[], np.ndarray], taken_at: float) -> None:
        self._pixels = pixels
        self.taken_at = taken_at  # wall-clock seconds (time.time()) when it was read

    @cached_property
    def rgb(self) -> np.ndarray:
        """(H, W, 3) uint8."""
        if callable(self._pixels):
            self._pixels = self._pixels()
        return self._pixels


class Source(Protocol):
    kind: str

    def read(self) -> Picture: ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Facts about the source once open: size, frame rate when known."""
        ...


class AvSource:
    kind = "stream"

    def __init__(self, url: str, *, timeout_s: float, loop: bool = False) -> None:
        self.url, self.loop = url, loop
        self.is_file = "://" not in url
        if self.is_file and not Path(url).is_file():
            raise SourceError(f"no video file at {url}")
        options = {"rtsp_transport": "tcp"} if url.startswith("rtsp://") else {}
        try:
            self.container: Any = av.open(url, options=options, timeout=(timeout_s, timeout_s))
            self.stream = self.container.streams.video[0]
        except (av.FFmpegError, IndexError, OSError) as exc:
            raise SourceError(f"cannot open {url}: {exc}") from exc
        if self.is_file:  # frame threading buffers frames: fine for files, late for live
            self.stream.thread_type = "AUTO"
        self.kind = "file" if self.is_file else "stream"
        self._frames = self.container.decode(self.stream)
        self._started = time.monotonic()  # when pts 0 was (or will be) shown, for files

    def read(self) -> Picture:
        try:
            frame = next(self._frames)
        except StopIteration:
            if not (self.is_file and self.loop):
                raise SourceError(f"{self.url} ended") from None
            self.container.seek(0)
            self._frames = self.container.decode(self.stream)
            self._started = time.monotonic()
            try:
                frame = next(self._frames)
            except (StopIteration, av.FFmpegError) as exc:
                raise SourceError(f"{self.url} has no frames: {exc}") from exc
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"{self.url}: {exc}") from exc
        if self.is_file and frame.time is not None:  # a file plays at its own pace
            delay = self._started + float(frame.time) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return Picture(functools.partial(frame.to_ndarray, format="rgb24"), time.time())

    def describe(self) -> dict[str, Any]:
        rate = self.stream.average_rate or self.stream.guessed_rate
        return {"width": self.stream.width, "height": self.stream.height,
                "fps": round(float(rate), 2) if rate else None, "codec": self.stream.codec_context.name}

    def close(self) -> None:
        self.container.close()


class SnapshotSource:
    kind = "snapshot"

    def __init__(self, url: str, *, timeout_s: float, sample_hz: float) -> None:
        self.url, self.interval = url, 1.0 / sample_hz
        self.client = httpx.Client(timeout=timeout_s, follow_redirects=True)
        self._next = 0.0
        self._size: tuple[int, int] | None = None

    def read(self) -> Picture:
        time.sleep(max(0.0, self._next - time.monotonic()))
        self._next = time.monotonic() + self.interval
        try:
            reply = self.client.get(self.url)
            reply.raise_for_status()
            rgb = decode_image(reply.content, self.url)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.url}: {exc}") from exc
        self._size = (rgb.shape[1], rgb.shape[0])
        return Picture(rgb, time.time())

    def describe(self) -> dict[str, Any]:
        width, height = self._size or (None, None)
        return {"width": width, "height": height, "fps": round(1.0 / self.interval, 2)}

    def close(self) -> None:
        self.client.close()


class FolderSource:
    kind = "folder"

    def __init__(self, folder: str, *, timeout_s: float, sample_hz: float) -> None:
        self.folder, self.timeout_s, self.interval = Path(folder), timeout_s, 1.0 / sample_hz
        if not self.folder.is_dir():
            raise SourceError(f"no folder at {folder}")
        self._last: tuple[str, int] | None = None  # newest image already returned, by mtime
        self._size: tuple[int, int] | None = None

    def _newest(self) -> tuple[Path, int] | None:
        best: tuple[Path, int] | None = None
        for entry in self.folder.iterdir():
            if entry.suffix.lower() in IMAGE_SUFFIXES:
                try:
                    mtime = entry.stat().st_mtime_ns
                except FileNotFoundError:  # removed while we looked
                    continue
                if best is None or mtime > best[1]:
                    best = (entry, mtime)
        return best

    def read(self) -> Picture:
        deadline = time.monotonic() + self.timeout_s
        while True:
            newest = self._newest()
            # An image older than the timeout is not live: a camera that stopped writing
            # must stay offline, not come back with its last picture at every reconnection.
            fresh = newest is not None and time.time() - newest[1] / 1e9 <= self.timeout_s
            if newest and fresh and (newest[0].name, newest[1]) != self._last:
                try:
                    rgb = decode_image(newest[0].read_bytes(), str(newest[0]))
                except (OSError, SourceError):  # still being written: try on the next look
                    rgb = None
                if rgb is not None:
                    self._last = (newest[0].name, newest[1])
                    self._size = (rgb.shape[1], rgb.shape[0])
                    return Picture(rgb, time.time())
            if time.monotonic() >= deadline:
                raise SourceError(f"no new image in {self.folder} for {self.timeout_s:.0f} s")
            time.sleep(min(self.interval, 0.25))

    def describe(self) -> dict[str, Any]:
        width, height = self._size or (None, None)
        return {"width": width, "height": height, "fps": None}

    def close(self) -> None:
        self._last = None


def decode_image(data: bytes, where: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise SourceError(f"{where} did not give an image: {exc}") from exc


def is_snapshot_url(url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.endswith(IMAGE_SUFFIXES) or "snapshot" in path or "snap.cgi" in path


def open_source(
    url: str, *, timeout_s: float = 10.0, sample_hz: float = 1.0, loop: bool = False,
    snapshot: bool | None = None,
) -> Source:
    """Open the source `url` names; raises `SourceError` when it cannot be opened."""
    if url.startswith(("http://", "https://")):
        if snapshot if snapshot is not None else is_snapshot_url(url):
            return SnapshotSource(url, timeout_s=timeout_s, sample_hz=sample_hz)
        return AvSource(url, timeout_s=timeout_s)
    if "://" in url:
        return AvSource(url, timeout_s=timeout_s)
    if Path(url).is_dir():
        return FolderSource(url, timeout_s=timeout_s, sample_hz=sample_hz)
    return AvSource(url, timeout_s=timeout_s, loop=loop)
