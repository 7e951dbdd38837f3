"""One camera's reader thread: keeps the newest picture, reconnects with backoff.

The thread opens the source and reads it as fast as it sends, so a live stream never
backs up inside FFmpeg and `latest()` is always the newest picture. When the source
fails (cannot open, error, silent past its timeout) the camera is offline: `on_offline`
is called with the moment it went down (its last picture, if it sent any) and the
error, then again after each failed retry with the same moment; retries wait
`retry_initial_s`, doubling up to `retry_max_s`. The first picture after (re)connecting
calls `on_online`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.camera.sources import Picture, Source, SourceError

log = logging.getLogger(__name__)

Opener = Callable[[], Source]
OnOffline = Callable[[datetime, str], None]


class Feed:
    def __init__(
        self, name: str, opener: Opener, *, retry_initial_s: float, retry_max_s: float,
        on_offline: OnOffline, on_online: Callable[[], None] = lambda: None,
    ) -> None:
        self.name, self.opener = name, opener
        self.retry_initial_s, self.retry_max_s = retry_initial_s, retry_max_s
        self.on_offline, self.on_online = on_offline, on_online
        self.offline_since: datetime | None = None
        self.failures = 0  # failed attempts in a row
        self.online = False  # a picture came since the last (re)connection
        self._latest: tuple[int, Picture] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera-{name}", daemon=True)

    def start(self) -> Feed:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the thread to stop and wait up to `timeout_s` (0: only ask); a read blocked
        on a silent camera ends at its timeout, and the thread is a daemon anyway."""
        self._stop.set()
        if timeout_s > 0:
            self._thread.join(timeout_s)

    def latest(self) -> tuple[int, Picture] | None:
        """(sequence number, picture) of the newest picture, or None before the first."""
        with self._lock:
            return self._latest

    def backoff(self) -> float:
        return float(min(self.retry_max_s, self.retry_initial_s * 2 ** max(0, self.failures - 1)))

    def _run(self) -> None:
        sequence = 0
        while not self._stop.is_set():
            source: Source | None = None
            try:
                source = self.opener()
                while not self._stop.is_set():
                    picture = source.read()
                    sequence += 1
                    with self._lock:
                        self._latest = (sequence, picture)
                    if not self.online:
                        self._back_online()
            except SourceError as exc:
                self._failed(str(exc))
            except Exception as exc:  # a bug or an odd stream must not kill the camera for good
                log.exception("camera %s: unexpected error", self.name)
                self._failed(f"{type(exc).__name__}: {exc}")
            finally:
                if source is not None:
                    source.close()
            self._stop.wait(self.backoff())

    def _failed(self, error: str) -> None:
        latest = self.latest()
        if self.offline_since is None:  # it went quiet after its last picture, if it sent one
            seen = latest[1].taken_at if self.online and latest else None
            self.offline_since = datetime.fromtimestamp(seen, UTC) if seen else datetime.now(UTC)
        self.online = False
        self.failures += 1
        log.warning("camera %s offline (attempt %d failed): %s; retrying in %.1f s",
                    self.name, self.failures, error, self.backoff(),
                    extra={"camera": self.name, "error": error})
        try:
            self.on_offline(self.offline_since, error)
        except Exception:
            log.exception("camera %s: reporting it offline failed", self.name)

    def _back_online(self) -> None:
        down = self.offline_since
        self.offline_since, self.failures, self.online = None, 0, True
        if down is not None:
            log.info("camera %s back online after %.0f s", self.name,
                     (datetime.now(UTC) - down).total_seconds(), extra={"camera": self.name})
        try:
            self.on_online()
        except Exception:
            log.exception("camera %s: reporting it online failed", self.name)

