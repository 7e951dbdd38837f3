"""The chatbot's parts as real processes, for the tests that talk to it: the Rasa server
(its own Python 3.10 environment, the trained model) and the action server (rasa-sdk),
over database 3 of the session's Redis, which the per-test `client` fixture (database 0)
never flushes, so the games the action server imported stay. One set serves the whole
test session (the `chatbot` fixture in tests/conftest.py): starting Rasa takes most of
a minute.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from models.speech.tts import PIPER_VOICE, PiperEngine
from services import rasa_project as project
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import Settings, load_settings
from tests.conftest import ROOT, child_env

MODELS = ROOT / "var" / "models"
REPORTS = ROOT / "var" / "reports"

DB = 3


def afternoon_zone(now: datetime | None = None) -> str:
    """A time zone where it is now about 2 pm. The test family lives there, so that whenever
    the tests run, 'today' has a morning and naps behind it and 'last night' is over."""
    offset = (14 - (now or datetime.now(UTC)).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{-offset:+d}"  # POSIX signs: Etc/GMT-3 is three hours ahead of UTC


def spoken(text: str) -> bytes:
    """`text` as the Piper voice says it, without the voice's sampling noise: the same words
    give the same audio every run, so what Whisper hears in a test does not change by chance
    (with the noise, one run in a few heard "a calm game" as "a come game")."""
    return PiperEngine(MODELS / PIPER_VOICE, noise_scale=0.0, noise_w_scale=0.0).synthesize_wav(text)


@dataclass
class Chatbot:
    settings: Settings
    redis: redis.Redis
    logs: Path
    rasa: subprocess.Popen[bytes]
    actions: subprocess.Popen[bytes]

    def restart_rasa(self) -> None:
        stop(self.rasa)
        self.rasa = start_rasa(self.settings, self.logs)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_rasa(settings: Settings, logs: Path) -> subprocess.Popen[bytes]:
    model, _ = project.train(settings)
    env = project.quiet_env(project.rasa_env(settings, settings.redis.url or ""))
    log = (logs / "rasa.log").open("ab")
    process = subprocess.Popen(project.server_argv(settings, model), env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    if not project.wait_for(settings.rasa.url + "/", 240, alive=lambda: process.poll() is None):
        stop(process)
        pytest.fail(f"the Rasa server did not start; see {logs / 'rasa.log'}:\n"
                    + (logs / "rasa.log").read_text()[-3000:])
    return process


@contextmanager
def running_chatbot(redis_server: EmbeddedRedis,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chatbot]:
    """Rasa and the action server on database 3 of the session's Redis, until the block ends."""
    try:
        project.rasa_command(load_settings(environment="test"))
    except project.ChatbotError as exc:
        pytest.fail(str(exc))
    logs = tmp_path_factory.mktemp("chatbot")
    redis_url = urlsplit(redis_server.url)._replace(path=f"/{DB}").geturl()
    rasa_port, actions_port = free_port(), free_port()
    zone = afternoon_zone()
    settings = load_settings(
        environment="test", data_dir=logs / "data", redis={"url": redis_url},
        models={"dir": MODELS}, family={"timezone": zone},
        rasa={"enabled": True, "url": f"http://127.0.0.1:{rasa_port}", "timeout_s": 60,
              "actions_url": f"http://127.0.0.1:{actions_port}/webhook", "venv": ROOT / ".venv-rasa"},
    )
    client = connect(redis_url)
    client.flushdb()
    env = child_env(redis_url, logs / "data", CRADLE_MODELS__DIR=str(MODELS),
                    CRADLE_RASA__ACTIONS_HOST="127.0.0.1", CRADLE_FAMILY__TIMEZONE=zone)
    actions = subprocess.Popen(
        [sys.executable, "-m", "chatbot.actions", "--port", str(actions_port)],
        env=env, cwd=ROOT, stdout=(logs / "actions.log").open("ab"), stderr=subprocess.STDOUT,
    )
    bot: Chatbot | None = None
    try:
        health = f"http://127.0.0.1:{actions_port}/health"
        if not project.wait_for(health, 120, alive=lambda: actions.poll() is None):
            pytest.fail("the action server did not start:\n" + (logs / "actions.log").read_text()[-3000:])
        bot = Chatbot(settings, client, logs, start_rasa(settings, logs), actions)
        yield bot
    finally:
        if bot is not None:
            stop(bot.rasa)
        stop(actions)
        client.flushdb()
        client.close()
