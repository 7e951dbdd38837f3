"""Each camera's counters and state in Redis, for `cradle camera status`, /metrics and
the benchmarks: hash cradle:camera:<name> with captured, still, dropped, sent (counts
since the camera process started) and state, since, error, child, room, last_frame_at."""

from __future__ import annotations

from typing import Any

import redis

PREFIX = "cradle:camera:"
COUNTERS = ("captured", "still", "dropped", "sent")
Value = str | int | float


class CameraStatus:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def count(self, camera: str, counter: str, amount: int = 1) -> None:
        self.client.hincrby(PREFIX + camera, counter, amount)

    def set(self, camera: str, **fields: Value) -> None:
        mapping: dict[Any, Any] = fields
        self.client.hset(PREFIX + camera, mapping=mapping)

    def reset(self, camera: str, **fields: Value) -> None:
        """A fresh record at start: counters at zero."""
        mapping: dict[Any, Any] = {**dict.fromkeys(COUNTERS, 0), **fields}
        pipe = self.client.pipeline()
        pipe.delete(PREFIX + camera)
        pipe.hset(PREFIX + camera, mapping=mapping)
        pipe.execute()

    def forget(self, camera: str) -> None:
        self.client.delete(PREFIX + camera)

    def read(self, camera: str) -> dict[str, str]:
        return self.client.hgetall(PREFIX + camera)  # type: ignore[return-value]

    def all(self) -> dict[str, dict[str, str]]:
        names = sorted(key[len(PREFIX):] for key in self.client.scan_iter(PREFIX + "*", count=200))
        return {name: self.read(name) for name in names}
