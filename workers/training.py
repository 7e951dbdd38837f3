"""Training tasks, on their own `training` queue: the family's models retrained.

`retrain` runs one training run (services/teach/job.py): at most one at a time across
the stack (a Redis lock); a second request while one runs answers `busy`. `consider`
runs every `teach.check_every_s` on the training worker's own beat (`celery worker -B`)
and queues `retrain` when enough new labels have come and it is the set hour. The
worker runs at low CPU priority (`cradle up` starts it under `nice`), so the camera and
the voice go first.
"""

from __future__ import annotations

import logging
from typing import Any

from services import tasks
from services.redis_runtime import connect
from services.teach import job
from workers.base import CradleTask
from workers.celery_app import app

log = logging.getLogger(__name__)


@app.task(name=tasks.RETRAIN, base=CradleTask, bind=True)
def retrain(self: CradleTask, reason: str = "asked") -> dict[str, Any]:
    """One training run; `reason` says who or what asked for it."""
    settings = self.settings
    assert settings.redis.url, "workers run with CRADLE_REDIS__URL set"
    try:
        return job.run(settings, connect(settings.redis.url, settings), reason)
    except job.Busy as exc:
        log.info("not training (%s): %s", reason, exc)
        return {"state": "busy", "reason": reason}


@app.task(name=tasks.CONSIDER_TRAINING, base=CradleTask, bind=True)
def consider(self: CradleTask) -> str | None:
    """Queue a run when one is due; returns why, or None."""
    settings = self.settings
    assert settings.redis.url, "workers run with CRADLE_REDIS__URL set"
    why = job.due(settings, connect(settings.redis.url, settings))
    if why:
        log.info("a training run is due: %s", why)
        job.request(self.app, settings, why)
    return why
