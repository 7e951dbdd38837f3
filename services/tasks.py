"""The Celery seam: queues, task names, configuration, sending and waiting.

Every process that sends a task (the camera's dispatcher, the gateway's voice and games
routes, `cradle up` and `cradle models`) and the workers that run them meet here, so a
task's name and queue are written once. The workers' app (workers/celery_app.py) is built
from `celery_config`, and each task in workers/ registers under the name defined below;
senders make their own app with `create_celery(settings, include=False)` and send by
those names, so nothing in services imports the workers (nor their models).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.result import AsyncResult
from kombu import Queue

from services.settings import Settings

QUEUES = ("default", "vision", "speech", "training")

# The tasks, by the names they register under in workers/.
PING = "workers.health.ping"
ANALYSE_FRAMES = "workers.vision.analyse_frames"
TRANSCRIBE = "workers.speech.transcribe"
SPEAK = "workers.speech.speak"
RETRAIN = "workers.training.retrain"
CONSIDER_TRAINING = "workers.training.consider"
BACKUP = "workers.maintenance.backup"

# The modules a worker imports to register them (by name: importing them here would pull
# the models into every sender).
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
        "beat_schedule": {"consider-training": {"task": CONSIDER_TRAINING,
                                                "schedule": settings.teach.check_every_s,
                                                "options": {"expires": settings.teach.check_every_s}},
                          # and is a backup due (services/backup/schedule.py)?
                          **({"consider-backup": {"task": BACKUP,
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


def task_modules(settings: Settings) -> list[str]:
    """What a worker imports: Cradle's task modules and the deployment's extra ones."""
    return [*TASK_MODULES, *settings.celery.extra_include]


def create_celery(settings: Settings, redis_url: str | None = None, *, include: bool = True) -> Celery:
    """A configured app. `redis_url` defaults to the settings' Redis URL; a sender passes
    `include=False` (it only sends by name)."""
    url = redis_url or settings.redis.url
    if not url:
        raise RuntimeError(
            "no Redis URL: set CRADLE_REDIS__URL (cradle up sets it for the workers it starts)"
        )
    celery = Celery("cradle", include=task_modules(settings) if include else [])
    celery.conf.update(celery_config(settings, url))
    return celery


def send(celery: Celery, name: str, args: Sequence[Any] | None = None,
         kwargs: dict[str, Any] | None = None, **options: Any) -> AsyncResult:
    """Queue task `name`; `options` are Celery's (queue, expires, time limits)."""
    return celery.send_task(name, args=args, kwargs=kwargs, **options)


def wait_for_task(celery: Celery, name: str, args: Sequence[Any], timeout_s: float) -> Any:
    """Send task `name` and wait for its result (at most `timeout_s`); blocking. The result
    is forgotten afterwards, so the backend keeps nothing."""
    result = send(celery, name, args)
    try:
        return result.get(timeout=timeout_s)
    finally:
        result.forget()
