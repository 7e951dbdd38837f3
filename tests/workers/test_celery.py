"""The Celery wiring through a real worker process and the session's Redis."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import redis
from celery import Celery

from services.settings import Settings
from services.tasks import create_celery
from tests.conftest import wait_for


def test_ping_goes_through_a_real_worker(sender: Celery, celery_worker: subprocess.Popen[bytes]) -> None:
    result = sender.send_task("workers.health.ping").get(timeout=60)
    assert result["pong"] is True
    assert result["pid"] != os.getpid() and result["pid"] != celery_worker.pid  # ran in a pool child


def test_task_of_a_killed_worker_process_is_redelivered_and_completes(
    sender: Celery, client: redis.Redis, celery_worker: subprocess.Popen[bytes]
) -> None:
    result = sender.send_task("tests.hold", args=["job", 60])
    first_pid = int(wait_for(lambda: client.lindex("job:pids", 0), timeout=60, what="the task to start"))
    os.kill(first_pid, signal.SIGKILL)
    outcome = result.get(timeout=60)
    assert outcome["attempt"] == 2
    assert outcome["pid"] != first_pid
    assert client.get("job:finished") == "1"  # the killed attempt never finished
    assert celery_worker.poll() is None  # the worker itself lives on


def test_configuration_is_at_least_once_and_json_only(settings: Settings) -> None:
    conf = create_celery(settings, include=False).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_routes["workers.vision.*"] == {"queue": "vision"}


def test_spoken_replies_are_pruned_oldest_first(tmp_path: Path) -> None:
    from workers.speech import prune_replies

    for age, name in enumerate(["new", "mid", "old"]):
        path = tmp_path / f"{name}.ogg"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 - age, 1_000_000 - age))
    assert prune_replies(tmp_path, keep=2) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.ogg", "new.ogg"]
