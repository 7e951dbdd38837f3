"""Which child each camera watches: the family store's binding (the Family screen, `cradle
family edit --camera`), read again every few seconds, so a camera given to another child
records for them without a restart; a camera the family bound to no child keeps the
child its settings name."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from services.family import FamilyStore
from services.settings.sections import CameraSource

log = logging.getLogger(__name__)
REFRESH_S = 5.0  # how stale a binding may be: a frame or two at the usual 1 Hz


class Bindings:
    def __init__(self, store: FamilyStore, refresh_s: float = REFRESH_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.refresh_s, self.clock = store, refresh_s, clock
        self._bound: dict[str, str] = {}
        self._read_at: float | None = None

    def child(self, camera: CameraSource) -> str:
        """The id of the child `camera` watches now."""
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.refresh_s:
            self._read_at = now
            try:
                bound = self.store.camera_children()
            except (redis.RedisError, ValueError) as exc:  # keep the last binding through an outage
                log.warning("cannot read which child each camera watches (%s); keeping the last", exc)
            else:
                for name in set(bound) | set(self._bound):
                    if bound.get(name) != self._bound.get(name):
                        log.info("camera %s now watches %s", name, bound.get(name, "its settings' child"))
                self._bound = bound
        return self._bound.get(camera.name, camera.child)
