"""The workers' Celery app: Redis broker and backend, four queues, at-least-once delivery.

Workers start with `celery -A workers.celery_app worker -Q vision` (`cradle up` does it).
The module-level `app` reads its configuration from Cradle's settings lazily, on first
use, so importing this module builds nothing. Queues, task names and the configuration
are services/tasks.py's: each task here registers under a name defined there, and the
processes that only send tasks (camera, gateway, CLI) make their own app from it.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from services.settings import get_settings
from services.tasks import celery_config, task_modules

app = Celery("cradle")


@app.on_configure.connect
def _configure_from_settings(sender: Celery, **_kwargs: Any) -> None:
    settings = get_settings()
    if not settings.redis.url:
        raise RuntimeError("workers need CRADLE_REDIS__URL; start them with 'cradle up'")
    sender.conf.update(celery_config(settings, settings.redis.url))
    sender.conf.include = task_modules(settings)
