"""A vision worker with the slow test task (the shared `start_worker` fixes its task
modules to tests.workers.tasks)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.redis_runtime import EmbeddedRedis
from tests.conftest import ROOT, child_env


@pytest.fixture
def slow_vision_worker(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = child_env(redis_server.url, tmp_path / "data",
                    CRADLE_CELERY__EXTRA_INCLUDE=json.dumps(["tests.services.camera.slow_vision"]))
    with (tmp_path / "worker-slow-vision.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "vision",
             "-c", "1", "-P", "prefork", "-n", "test-slow-vision@%h", "--loglevel", "INFO",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        yield worker
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
