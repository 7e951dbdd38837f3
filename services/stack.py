"""Running Cradle's processes on one machine: what `cradle up` supervises.

Each part is a child process in its own session (so Ctrl-C reaches only the supervisor,
which then stops the parts in reverse order), with its output in data_dir/logs/NAME.log.
A part that dies is restarted with backoff. The running stack is described in
data_dir/run/stack.json, which `cradle status` and the other commands read.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from services import https
from services import rasa_project as project
from services.redis_runtime import EmbeddedRedis, connect, reachable, resolve
from services.settings import Settings


@dataclass
class Part:
    """One supervised process."""

    name: str
    argv: list[str]
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0  # time.monotonic() of the last start
    failures: int = 0  # deaths in a row, each after a short run: sets the backoff

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.started_at = time.monotonic()
        with self.log_file.open("ab") as sink:
            self.process = subprocess.Popen(
                self.argv,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _die_with_parent() -> None:
    """Linux: the part gets SIGTERM if the supervisor itself is killed (no orphans)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _niced(level: int) -> list[str]:
    """The prefix that starts a command at CPU priority `level` (nice), where nice exists."""
    return ["nice", "-n", str(level)] if level and shutil.which("nice") else []


def state_file(settings: Settings) -> Path:
    return settings.run_dir / "stack.json"


def read_state(settings: Settings) -> dict[str, Any] | None:
    """The running stack's description, or None when no supervisor is alive."""
    path = state_file(settings)
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return state if pid_alive(int(state.get("pid", 0))) else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def redis_for_cli(settings: Settings) -> Iterator[redis.Redis]:
    """A Redis client for a one-off command: the configured server, the running stack's,
    or, when no stack runs, the embedded server on the same data folder for a moment."""
    url = settings.redis.url
    if url and reachable(url):
        client = connect(url, settings)
        yield client
        client.close()
        return
    state = read_state(settings)
    if state and reachable(state["redis_url"]):
        client = connect(state["redis_url"], settings)
        yield client
        client.close()
        return
    with EmbeddedRedis(settings.data_dir / "redis") as server:
        client = connect(server.url, settings)
        yield client
        client.close()


@dataclass
class Stack:
    """The parts of Cradle on this machine, started in order and stopped in reverse."""

    settings: Settings
    parts: list[Part] = field(default_factory=list)
    redis_url: str = ""
    embedded: EmbeddedRedis | None = None
    chatbot_model: Path | None = None  # the trained Rasa model, when the chatbot is enabled
    # A part that ran this long before it died was healthy: it restarts after the shortest delay.
    healthy_after_s: float = 60.0

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CRADLE_REDIS__URL=self.redis_url,
            CRADLE_DATA_DIR=str(self.settings.data_dir.resolve()),
            CRADLE_MODELS__DIR=str(self.settings.models_dir),
            PYTHONUNBUFFERED="1",
        )
        # OpenMP threads (torch, CTranslate2) sleep when their work is done instead of
        # spinning for it: on a few cores, a spinning pool of one part steals the CPU
        # another part is waiting for (raw faster-whisper: 0.9 s passive, 1.5 s spinning).
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        return env

    def plan(self) -> list[Part]:
        """The processes to run, in start order."""
        python, c, logs, env = sys.executable, self.settings.celery, self.settings.log_dir, self.child_env()
        # The camera and training may wait; a question may not: the speech worker runs below the
        # gateway and the chatbot (a typed question is short, a spoken one holds the cores for a
        # second), the vision worker below speech, training below everything.
        nice = {"speech": c.speech_nice, "vision": c.vision_nice, "training": c.training_nice}
        parts = [
            Part(
                f"worker-{queue}",
                [
                    *_niced(nice.get(queue, 0)), python, "-m", "celery", "-A", "workers.celery_app", "worker",
                    "-Q", queue, "-n", f"{queue}@%h", "--concurrency", str(concurrency),
                    "--pool", "prefork", "--loglevel", "INFO", "-O", "fair",
                ],
                logs / f"worker-{queue}.log",
                env,
            )
            for queue, concurrency in (
                ("default", c.default_concurrency),
                ("vision", self.settings.vision_processes),
                ("speech", c.speech_concurrency),
            )
        ]
        # Training: one process, with its own beat that checks whether a retraining run is due.
        parts.append(Part(
            "worker-training",
            [*_niced(nice["training"]), python, "-m", "celery", "-A", "workers.celery_app", "worker",
             "-Q", "training", "-n", "training@%h", "--concurrency", "1", "--pool", "prefork",
             "--loglevel", "INFO", "-B", "-s", str(self.settings.run_dir / "celerybeat-schedule")],
            logs / "worker-training.log", env,
        ))
        for name in ("timeline", "alerts", "delivery"):  # bus consumers; one alerts engine
            parts.append(Part(name, [python, "-m", f"services.{name}"], logs / f"{name}.log", env))
        parts.append(Part("camera", [python, "-m", "services.camera"], logs / "camera.log", env))
        if self.settings.rasa.enabled:
            if self.chatbot_model is None:
                raise ValueError("the chatbot is enabled but no Rasa model was given (train it first)")
            rasa_env = {**env, **project.rasa_env(self.settings, self.redis_url)}
            actions = project.actions_argv(self.settings, python)
            host = urlsplit(self.settings.rasa.actions_url).hostname or "127.0.0.1"
            actions_env = {**env, "CRADLE_RASA__ACTIONS_HOST": host}
            parts.append(Part("actions", actions, logs / "actions.log", actions_env))
            parts.append(Part("rasa", project.server_argv(self.settings, self.chatbot_model),
                              logs / "rasa.log", project.quiet_env(rasa_env)))
        parts.append(Part("gateway", [python, "-m", "services.gateway"], logs / "gateway.log", env))
        door = https.front_door(self.settings, env)  # None where HTTPS is off or caddy is missing
        if door:
            parts.append(Part("caddy", door.argv, logs / "caddy.log", door.env))
        return parts

    def start_redis(self) -> None:
        self.redis_url, self.embedded = resolve(self.settings, self.settings.log_dir / "redis.log")

    def start(self) -> None:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)  # the training beat's schedule lives here
        self.parts = self.plan()
        for part in self.parts:
            part.start()
        self.write_state()

    def write_state(self) -> None:
        gateway = self.settings.gateway
        state = {
            "pid": os.getpid(),
            "started_at": time.time(),
            "redis_url": self.redis_url,
            "redis_embedded": self.embedded is not None,
            "gateway_url": f"http://{gateway.host}:{gateway.port}",
            "parts": {
                part.name: {"pid": part.pid, "log": str(part.log_file), "restarts": part.restarts}
                for part in self.parts
            },
        }
        path = state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(state, indent=2))
        scratch.replace(path)

    def supervise_once(self) -> list[str]:
        """Restart parts that died (with backoff); returns what happened, for the console."""
        news = []
        now = time.monotonic()
        if self.embedded and self.embedded.process and self.embedded.process.poll() is not None:
            # Same port and data folder: the parts reconnect and nothing stored is lost.
            news.append(f"embedded Redis exited ({self.embedded.process.returncode}); restarting it")
            self.embedded.start()
        for part in self.parts:
            if part.alive():
                continue
            if part.next_start == 0.0:
                code = part.process.returncode if part.process else None
                if now - part.started_at >= self.healthy_after_s:
                    part.failures = 0
                delay = min(60.0, 2.0 ** min(part.failures, 6))
                part.failures += 1
                part.next_start = now + delay
                news.append(f"{part.name} exited ({code}); restarting in {delay:.0f} s, see {part.log_file}")
            elif now >= part.next_start:
                part.restarts += 1
                part.next_start = 0.0
                part.start()
                news.append(f"{part.name} restarted (pid {part.pid})")
                self.write_state()
        return news

    def stop(self, timeout_s: float = 20.0) -> None:
        for part in reversed(self.parts):
            part.stop(timeout_s)
        if self.embedded:
            self.embedded.stop()
        with contextlib.suppress(FileNotFoundError):
            state_file(self.settings).unlink()
