"""Frames to the vision queue, newest first, with a bounded backlog.

Each camera has at most one frame waiting here; a newer frame replaces it and the older
one is dropped (counted per camera). Waiting frames go out together, one message per
batch, but only while fewer than `max_in_flight` batches are unfinished and the queue
holds fewer than that many messages. So when the workers fall behind nothing piles up:
frames wait here, one per camera, and whatever the workers take next is the newest.
A batch carries an expiry: a worker that comes back after an outage skips a stale one,
and the dispatcher stops waiting for it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from celery import Celery
from celery.result import AsyncResult

from services.bus.events import FrameCaptured
from services.camera.status import CameraStatus
from services.tasks import ANALYSE_FRAMES, send

log = logging.getLogger(__name__)
REPORT_EVERY_S = 10.0


@dataclass
class Batch:
    result: AsyncResult
    frames: list[str]
    sent_at: float


class Dispatcher:
    def __init__(
        self, celery: Celery, client: redis.Redis, status: CameraStatus, *, max_in_flight: int,
        expires_s: float, queue: str = "vision", task: str = ANALYSE_FRAMES,
    ) -> None:
        self.celery, self.client, self.status = celery, client, status
        self.max_in_flight, self.expires_s, self.queue, self.task = max_in_flight, expires_s, queue, task
        self.waiting: dict[str, FrameCaptured] = {}  # camera → its newest unsent frame
        self.in_flight: list[Batch] = []
        self.stats = {"sent": 0, "batches": 0, "dropped": 0, "expired": 0}
        self._dropped_since_report: dict[str, int] = {}
        self._reported_at = time.monotonic()

    def offer(self, frame: FrameCaptured) -> None:
        """Queue `frame` as its camera's next; an unsent older frame of that camera is dropped."""
        stale = self.waiting.get(frame.camera)
        if stale is not None:
            self.stats["dropped"] += 1
            self._dropped_since_report[frame.camera] = self._dropped_since_report.get(frame.camera, 0) + 1
            self.status.count(frame.camera, "dropped")
        self.waiting[frame.camera] = frame

    def queued(self) -> int:
        """Messages in the broker's queue (Celery's Redis transport keeps one list per queue)."""
        return int(self.client.llen(self.queue))

    def pump(self, now: float | None = None) -> Batch | None:
        """Forget finished batches; send the waiting frames if the bound allows. Returns
        the batch sent, if any."""
        now = time.monotonic() if now is None else now
        self._reap(now)
        self._report(now)
        if not self.waiting or len(self.in_flight) >= self.max_in_flight:
            return None
        if self.queued() >= self.max_in_flight:  # messages left by an earlier run
            return None
        frames = list(self.waiting.values())
        self.waiting.clear()
        result = send(
            self.celery, self.task, args=[[frame.model_dump(mode="json") for frame in frames]],
            queue=self.queue, expires=self.expires_s,
        )
        batch = Batch(result, [frame.frame_id for frame in frames], now)
        self.in_flight.append(batch)
        self.stats["sent"] += len(frames)
        self.stats["batches"] += 1
        for frame in frames:
            self.status.count(frame.camera, "sent")
        return batch

    def _reap(self, now: float) -> None:
        still = []
        for batch in self.in_flight:
            if batch.result.ready():  # done, failed or revoked as expired
                batch.result.forget()
            elif now - batch.sent_at > self.expires_s:
                batch.result.forget()
                self.stats["expired"] += 1
                log.warning("vision batch %s unfinished after %.0f s; no longer waiting for it",
                            batch.result.id, now - batch.sent_at)
            else:
                still.append(batch)
        self.in_flight = still

    def _report(self, now: float) -> None:
        if now - self._reported_at < REPORT_EVERY_S:
            return
        self._reported_at = now
        if self._dropped_since_report:
            log.warning(
                "vision workers behind: dropped %d stale frames in %.0f s (%s); the newest is "
                "analysed next", sum(self._dropped_since_report.values()), REPORT_EVERY_S,
                ", ".join(f"{c}: {n}" for c, n in sorted(self._dropped_since_report.items())),
                extra={"dropped": dict(self._dropped_since_report)},
            )
            self._dropped_since_report.clear()
