"""The Celery app: Redis broker and backend, four queues, at-least-once delivery.

Workers start with `celery -A workers.celery_app worker -Q vision` (`cradle up` does it).
The module-level `app` reads its configuration from Cradle's settings lazily, on first
use, so importing this module builds nothing. Other processes that only send tasks (the
gateway) make their own app with `create_celery(settings)` and send by task name.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

from services.settings import Settings, get_settings

QUEUES = ("default", "vision", "speech", "training")
TASK_MODULES = ["workers.health", "workers.vision", "workers.speech", "workers.training",
                "workers.maintenance"]


def celery_config(settings: Settings, redis_url: str) -> dict[str, Any]:
    c = settings.celery
    return {
        "broker_url": redis_url,
        "result_backend": redis_url,
        "broker_connection_retry_on_startup": True,
        # A task taken by a worker that vanished goes back to the queue after this long.
        # It must exceed the longest task, or a slow task runs twice at once.
        "broker_transport_options": {"visibility_timeout": c.visibility_timeout_s},
        "result_backend_transport_options": {"visibility_timeout": c.visibility_timeout_s},
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "default",
        "task_routes": {
            "workers.vision.*": {"queue": "vision"},
            "workers.speech.*": {"queue": "speech"},
            "workers.training.*": {"queue": "training"},
            "workers.maintenance.*": {"queue": "training"},  # the low-priority worker
        },
        # The training worker's own beat (`worker -B`): is a retraining run due?
        # A check that waited behind a long run is stale: it expires rather than piles up.
        "beat_schedule": {"consider-training": {"task": "workers.training.consider",
                                                "schedule": settings.teach.check_every_s,
                                                "options": {"expires": settings.teach.check_every_s}},
                          # and is a backup due (services/backup/schedule.py)?
                          **({"consider-backup": {"task": "workers.maintenance.backup",
                                                  "schedule": settings.backup.check_every_s,
                                                  "options": {"expires": settings.backup.check_every_s}}}
                             if settings.backup.enabled else {})},
        # At least once: acknowledge after the task ran, requeue when the worker process
        # died under it (SIGKILL, out of memory); tasks are idempotent by their inputs.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_time_limit": c.task_time_limit_s,
        "task_soft_time_limit": c.task_soft_time_limit_s,
        "result_expires": c.result_expires_s,
        "task_track_started": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "enable_utc": True,
    }


def create_celery(settings: Settings, redis_url: str | None = None, *, include: bool = True) -> Celery:
    """A configured app. `redis_url` defaults to the settings' Redis URL."""
    url = redis_url or settings.redis.url
    if not url:
        raise RuntimeError(
            "no Redis URL: set CRADLE_REDIS__URL (cradle up sets it for the workers it starts)"
        )
    modules = [*TASK_MODULES, *settings.celery.extra_include] if include else []
    celery = Celery("cradle", include=modules)
    celery.conf.update(celery_config(settings, url))
    return celery


app = Celery("cradle")


@app.on_configure.connect
def _configure_from_settings(sender: Celery, **_kwargs: Any) -> None:
    settings = get_settings()
    if not settings.redis.url:
        raise RuntimeError("workers need CRADLE_REDIS__URL; start them with 'cradle up'")
    sender.conf.update(celery_config(settings, settings.redis.url))
    sender.conf.include = [*TASK_MODULES, *settings.celery.extra_include]
