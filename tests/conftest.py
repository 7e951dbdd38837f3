"""Shared fixtures: a private redis-server per test session (or per test, for tests that
stop it), settings pointing at it, and a real Celery worker process; and `require` /
`needs`, how a seam test says what it cannot run without."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from services.assets import asset_path
from services.games.embedder import Embedder, embedder_at
from services.redis_runtime import EmbeddedRedis, connect
from services.settings import Settings, load_settings
from services.tasks import create_celery

ROOT = Path(__file__).resolve().parent.parent
# The project's test command (scripts/pytest.sh, which `make test` and CI run) sets this: it
# installs everything first, so there a missing weights file or program is a failure. (Not a
# CRADLE_ variable: the settings refuse names they do not know, and children inherit it.)
STRICT = os.environ.get("STRICT_TESTS") == "1"


def require(present: bool, missing: str) -> None:
    """Stops the test when `present` is false, saying `missing` (what is absent and how to
    get it): a skip when a developer runs the tests by hand, a failure under the project's
    test command, where `make setup` has installed it."""
    if present:
        return
    if STRICT:
        pytest.fail(f"{missing} (the project's test command installs it, so this is a failure)",
                    pytrace=False)
    pytest.skip(missing)


def needs(present: bool, missing: str) -> pytest.MarkDecorator:
    """`require` as a mark (for a test, or a module's `pytestmark`): checked before any of the
    test's fixtures start."""
    return pytest.mark.needs(present, missing)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        require(*mark.args)


@pytest.fixture(autouse=True)
def _no_ambient_cradle_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own settings; the developer's CRADLE_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("CRADLE_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A redis-server of the tests' own, on a free port, for the whole session."""
    folder = tmp_path_factory.mktemp("redis")
    with EmbeddedRedis(folder, log_file=folder / "redis.log") as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server for one test, which the test may stop."""
    with EmbeddedRedis(tmp_path / "redis", log_file=tmp_path / "redis.log") as server:
        yield server


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    return load_settings(
        redis={"url": redis_server.url},
        data_dir=tmp_path / "data",
        environment="test",
        rasa={"enabled": False},  # the chatbot's own tests (tests/chatbot/test_rasa.py) run Rasa
        celery={"vision_concurrency": 1},  # the tests' vision workers run one process (-c 1)
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The MiniLM embedder, loaded once for every games test."""
    path = asset_path(load_settings(environment="test").models_dir, "minilm")
    if not Path(path, "modules.json").exists():
        pytest.fail(f"MiniLM weights missing at {path}; run `cradle assets fetch`")
    return embedder_at(path)


@pytest.fixture
def client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client on the session's Redis, emptied before each test."""
    connection = connect(redis_server.url)
    connection.flushdb()
    yield connection
    connection.close()


def child_env(redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(
        CRADLE_REDIS__URL=redis_url,
        CRADLE_DATA_DIR=str(data_dir),
        CRADLE_ENVIRONMENT="test",
        CRADLE_CELERY__VISION_CONCURRENCY="1",  # as the settings fixture: workers run -c 1
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def worker_argv(queue: str, name: str) -> list[str]:
    """A real Celery worker (prefork, one child) on `queue`, as the stack starts one."""
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", queue, "-c", "1",
            "-P", "prefork", "-n", f"{name}@%h", "--loglevel", "INFO", "--without-mingle", "--without-gossip"]


@pytest.fixture
def start_worker(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts real Celery workers (prefork, one child) on the session's Redis; stops them after."""
    workers: list[subprocess.Popen[bytes]] = []
    logs = []

    def start(queue: str = "default", **env_overrides: str) -> subprocess.Popen[bytes]:
        env = child_env(
            redis_server.url, tmp_path / "data",
            CRADLE_CELERY__EXTRA_INCLUDE='["tests.workers.tasks"]', **env_overrides,
        )
        log_file = (tmp_path / f"worker-{queue}-{len(workers)}.log").open("wb")
        logs.append(log_file)
        worker = subprocess.Popen(
            worker_argv(queue, f"test-{queue}-{len(workers)}"),
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    for log_file in logs:
        log_file.close()


@pytest.fixture
def sender(settings: Settings) -> Iterator[Celery]:
    """A Celery app that sends tasks to the test workers (and reads their results)."""
    app = create_celery(settings, include=False)
    yield app
    gc.collect()  # results unsubscribe from Redis when collected: do it while Redis is up
    app.close()


@pytest.fixture
def celery_worker(start_worker: Callable[..., subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A real Celery worker on the default queue, with the test tasks."""
    return start_worker("default")


def wait_for(condition, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def chatbot(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Rasa server and the action server, started once for every test that talks to
    the chatbot (tests/chatbot/stack.py)."""
    from tests.chatbot.stack import running_chatbot

    with running_chatbot(redis_server, tmp_path_factory) as bot:
        yield bot
