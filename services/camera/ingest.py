"""Camera ingest: every camera sampled at its rate, motion-gated, stored, announced, sent.

One `Ingest` runs all cameras of a process from one loop. Each camera's feed thread keeps
its newest picture; at each of the camera's ticks the loop takes that picture (if new),
lets it through the motion gate, stores the JPEG, publishes `FrameCaptured` and hands it
to the dispatcher, which sends the newest frame of every camera to the vision queue in
one message. Between ticks the loop checks on the vision batches every `POLL_S`, so a
worker that finishes gets the next frames at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from services.bus.events import CameraOffline, FrameCaptured, new_id
from services.bus.streams import Publisher
from services.camera.binding import Bindings
from services.camera.dispatch import Dispatcher
from services.camera.feed import Feed
from services.camera.motion import MotionGate
from services.camera.sources import Source, open_source
from services.camera.status import CameraStatus
from services.camera.store import FrameStore
from services.family import FamilyStore
from services.settings import Settings
from services.settings.sections import CameraSource
from services.tasks import ANALYSE_FRAMES

log = logging.getLogger(__name__)
POLL_S = 0.05


@dataclass
class Camera:
    config: CameraSource
    feed: Feed
    gate: MotionGate
    interval: float
    next_at: float = 0.0
    last_sequence: int = 0
    disk_error: str = ""  # why frames cannot be stored now; empty when they can


class Ingest:
    def __init__(
        self, settings: Settings, client: redis.Redis, celery: Celery,
        cameras: list[CameraSource], *, task: str = ANALYSE_FRAMES,
    ) -> None:
        self.settings, self.client = settings, client
        s = settings.camera
        self.publisher = Publisher(client, settings.bus)
        self.status = CameraStatus(client)
        self.store = FrameStore.of(settings)
        self.bindings = Bindings(FamilyStore(client, settings))  # which child each camera watches
        self.dispatcher = Dispatcher(celery, client, self.status, expires_s=s.batch_expires_s, task=task,
                                     max_in_flight=settings.vision_batches_in_flight)
        self.cameras = [self._camera(config) for config in cameras]
        self.stats = {"captured": 0, "still": 0, "skipped": 0}  # skipped: ticks a held-up loop missed
        self._pruned_at = 0.0

    def _camera(self, config: CameraSource) -> Camera:
        s = self.settings.camera
        rate = config.sample_hz or s.sample_hz
        threshold = s.motion_threshold if config.motion_threshold is None else config.motion_threshold

        def opener() -> Source:
            return open_source(config.source, timeout_s=s.offline_after_s, sample_hz=rate,
                               loop=config.loop, snapshot=config.snapshot)

        def offline(since: datetime, error: str) -> None:
            child = self.bindings.child(config)
            self.publisher.publish(CameraOffline(camera=config.name, child=child, since=since,
                                                 error=error[:500], source="camera"))
            self.status.set(config.name, state="offline", since=since.isoformat(), error=error[:500])

        def online() -> None:
            self.status.set(config.name, state="online", since=datetime.now(UTC).isoformat(), error="")

        feed = Feed(config.name, opener, retry_initial_s=s.retry_initial_s, retry_max_s=s.retry_max_s,
                    on_offline=offline, on_online=online)
        return Camera(config, feed, MotionGate(threshold, s.motion_pixel_delta, s.still_every_s), 1.0 / rate)

    def start(self) -> Ingest:
        now = time.monotonic()
        names = {camera.config.name for camera in self.cameras}
        for gone in set(self.status.all()) - names:  # cameras no longer configured
            self.status.forget(gone)
        for camera in self.cameras:
            self.status.reset(camera.config.name, state="starting", child=self.bindings.child(camera.config),
                              room=camera.config.room, since=datetime.now(UTC).isoformat(), error="")
            camera.next_at = now + camera.interval
            camera.feed.start()
        log.info("camera ingest started: %s", ", ".join(
            f"{c.config.name} ({self.bindings.child(c.config)}, {c.config.room}) at {1 / c.interval:g} Hz"
            for c in self.cameras
        ))
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        for camera in self.cameras:  # all at once: one silent camera must not hold up the rest
            camera.feed.stop(0)
        deadline = time.monotonic() + timeout_s
        for camera in self.cameras:
            camera.feed.stop(max(0.01, deadline - time.monotonic()))

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; a Redis outage pauses announcing, not the cameras."""
        while not stop.is_set():
            try:
                self.step(time.monotonic())
            except (redis.RedisError, OperationalError) as exc:
                log.warning("Redis unreachable (%s); retrying", exc)
                stop.wait(1.0)
                continue
            due = min((c.next_at for c in self.cameras), default=time.monotonic() + 1.0)
            stop.wait(max(0.0, min(POLL_S, due - time.monotonic())))

    def step(self, now: float) -> list[FrameCaptured]:
        """Sample the cameras that are due, send what the bound allows, prune when it is time."""
        captured = []
        for camera in self.cameras:
            if now >= camera.next_at:
                camera.next_at += camera.interval
                if camera.next_at <= now:  # the loop was held up: skip the missed ticks
                    self.stats["skipped"] += int((now - camera.next_at) // camera.interval) + 1
                    camera.next_at = now + camera.interval
                frame = self.sample(camera)
                if frame is not None:
                    captured.append(frame)
        for frame in captured:
            self.dispatcher.offer(frame)
        self.dispatcher.pump(now)
        if now - self._pruned_at >= self.settings.camera.prune_every_s:
            self._pruned_at = now
            self.prune()
        return captured

    def sample(self, camera: Camera) -> FrameCaptured | None:
        latest = camera.feed.latest()
        if latest is None or latest[0] == camera.last_sequence:
            return None  # no new picture since the last tick
        camera.last_sequence, picture = latest
        name = camera.config.name
        if not camera.gate.admit(picture.rgb, picture.taken_at):
            self.stats["still"] += 1
            self.status.count(name, "still")
            return None
        taken = datetime.fromtimestamp(picture.taken_at, UTC)
        frame_id = new_id()
        try:
            path = self.store.save(name, frame_id, picture.rgb, taken)
        except OSError as exc:  # a full disk drops this frame, not the camera
            if not camera.disk_error:
                log.error("camera %s cannot store frames in %s (%s); dropping them until it can",
                          name, self.store.root, exc)
            camera.disk_error = f"{type(exc).__name__}: {exc}"[:300]
            self.status.count(name, "unsaved")
            self.status.set(name, disk_error=camera.disk_error)
            return None
        if camera.disk_error:
            log.info("camera %s stores frames again", name)
            camera.disk_error = ""
            self.status.set(name, disk_error="")
        child = self.bindings.child(camera.config)
        frame = FrameCaptured(frame_id=frame_id, camera=name, child=child, path=path,
                              captured_at=taken, source="camera")
        self.publisher.publish(frame)
        self.stats["captured"] += 1
        self.status.count(name, "captured")
        self.status.set(name, last_frame_at=taken.isoformat(), child=child)
        return frame

    def prune(self) -> None:
        s = self.settings.camera
        self.store.prune(now=time.time(), retention_s=s.retention_hours * 3600,
                         budget_bytes=s.disk_budget_mb * 1024 * 1024)
