"""Upkeep tasks, on the `training` queue (the low-priority worker that runs the beat).

`backup` runs every `backup.check_every_s` on that beat and makes a backup of the
family's data when one is due (services/backup/schedule.py), keeping the newest
`backup.keep`. A backup waits behind a training run; that is fine at night.
"""

from __future__ import annotations

import logging

from services import tasks
from services.backup.schedule import run_scheduled
from services.redis_runtime import connect
from workers.base import CradleTask
from workers.celery_app import app

log = logging.getLogger(__name__)


@app.task(name=tasks.BACKUP, base=CradleTask, bind=True)
def backup(self: CradleTask) -> str | None:
    """A backup when one is due; returns the archive's path, or None."""
    settings = self.settings
    assert settings.redis.url, "workers run with CRADLE_REDIS__URL set"
    client = connect(settings.redis.url, settings)
    try:
        path = run_scheduled(settings, client)
    finally:
        client.close()
    return str(path) if path else None
