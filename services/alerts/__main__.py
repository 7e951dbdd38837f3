"""`python -m services.alerts`: the alerts engine (one per stack) and its escalation clock."""

from __future__ import annotations

import redis

from services.alerts.engine import AlertEngine
from services.alerts.escalation import Clock, Escalator
from services.bus.events import utcnow
from services.bus.runner import SideJob, run_consumer
from services.bus.streams import Handler
from services.camera.demo import CAMERA_NAME, ROOM
from services.family import FamilyStore
from services.settings import Settings


def make(settings: Settings, client: redis.Redis, clock: Clock = utcnow) -> tuple[Handler, list[SideJob]]:
    rooms = {camera.name: camera.room for camera in settings.camera.cameras}
    if not rooms and settings.camera.demo:
        rooms[CAMERA_NAME] = ROOM
    engine = AlertEngine(client, settings.alerts, settings.bus, clock=clock, rooms=rooms,
                         family=settings.family, runs=settings.runs,
                         names=FamilyStore(client, settings).names)  # read for each notice: renames count
    escalator = Escalator(client, settings.alerts, settings.bus, clock=clock)
    return engine, [escalator.run]


if __name__ == "__main__":
    run_consumer("alerts", make, batched=True)
