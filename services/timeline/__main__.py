"""`python -m services.timeline`: keeps every event on each child's timeline."""

from __future__ import annotations

import redis

from services.bus.runner import SideJob, run_consumer
from services.bus.streams import Handler
from services.settings import Settings
from services.timeline.store import Timeline, TimelineConsumer


def make(settings: Settings, client: redis.Redis) -> tuple[Handler, list[SideJob]]:
    return TimelineConsumer(Timeline.from_settings(client, settings)), []


if __name__ == "__main__":
    run_consumer("timeline", make, batched=True)  # an alert's child: remembered, not read back
