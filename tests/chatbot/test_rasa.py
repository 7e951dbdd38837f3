"""The chatbot seam, against the real thing: a Rasa 3.6 server (its own Python 3.10
environment, the trained model), the action server (rasa-sdk) and the gateway, over a
Redis that holds the timeline, the games and Rasa's conversations.

These tests use Redis database 3 of the session's server, which the per-test `client`
fixture (database 0) never flushes, so the games the action server imported stay.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from fastapi.testclient import TestClient

from chatbot import project
from models.speech import make_engine
from services.auth import Role, UserStore
from services.bus.events import MoodObserved, utcnow
from services.gateway.app import create_app
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import Settings, load_settings
from services.timeline.store import Timeline
from tests.conftest import ROOT, child_env

MODELS = ROOT / "var" / "models"
DB = 3


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


@pytest.fixture(scope="module")
def chatbot(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chatbot]:
    try:
        project.rasa_command(load_settings(environment="test"))
    except project.ChatbotError as exc:
        pytest.fail(str(exc))
    logs = tmp_path_factory.mktemp("chatbot")
    redis_url = urlsplit(redis_server.url)._replace(path=f"/{DB}").geturl()
    rasa_port, actions_port = free_port(), free_port()
    settings = load_settings(
        environment="test", data_dir=logs / "data", redis={"url": redis_url},
        models={"dir": MODELS},
        rasa={"enabled": True, "url": f"http://127.0.0.1:{rasa_port}", "timeout_s": 60,
              "actions_url": f"http://127.0.0.1:{actions_port}/webhook", "venv": ROOT / ".venv-rasa"},
    )
    client = connect(redis_url)
    client.flushdb()
    env = child_env(redis_url, logs / "data", CRADLE_MODELS__DIR=str(MODELS), SANIC_HOST="127.0.0.1")
    actions = subprocess.Popen(
        [sys.executable, "-m", "chatbot.actions", "--port", str(actions_port)],
        env=env, cwd=ROOT, stdout=(logs / "actions.log").open("ab"), stderr=subprocess.STDOUT,
    )
    try:
        health = f"http://127.0.0.1:{actions_port}/health"
        if not project.wait_for(health, 120, alive=lambda: actions.poll() is None):
            pytest.fail("the action server did not start:\n" + (logs / "actions.log").read_text()[-3000:])
        bot = Chatbot(settings, client, logs, start_rasa(settings, logs), actions)
        yield bot
        stop(bot.rasa)
    finally:
        stop(actions)
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def gateway(chatbot: Chatbot) -> Iterator[tuple[TestClient, dict[str, str]]]:
    _user, token = UserStore(chatbot.redis).add("mum", Role.parent)
    with TestClient(create_app(chatbot.settings)) as app:
        yield app, {"Authorization": f"Bearer {token}"}


def say(gateway: tuple[TestClient, dict[str, str]], text: str) -> str:
    app, auth = gateway
    answer = app.post("/api/chat", json={"text": text}, headers=auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["timings_ms"]["chatbot"] > 0
    return str(body["reply"])


def test_a_greeting_comes_back_through_the_gateway(gateway: tuple[TestClient, dict[str, str]]) -> None:
    reply = say(gateway, "hello there")
    assert reply.startswith("Hello")


def test_the_mood_now_comes_from_the_timeline(
    chatbot: Chatbot, gateway: tuple[TestClient, dict[str, str]]
) -> None:
    timeline = Timeline(chatbot.redis)
    now = utcnow()
    for seconds in range(600, 0, -30):  # ten minutes of a happy baby, a frame every 30 s
        at = now - timedelta(seconds=seconds)
        timeline.add(MoodObserved(id=f"mood-{seconds:05d}", occurred_at=at, child="Baby", camera="demo",
                                  frame_id=f"frame-{seconds:05d}", mood="happy",
                                  probabilities={"feed": 0.05, "happy": 0.9, "upset": 0.03, "sleep": 0.02},
                                  model_version="test"))
    reply = say(gateway, "um how is she doing")
    assert "happy" in reply.lower()
    assert not any(mark in reply for mark in "*_#`[]")


def test_a_game_search_continues_after_rasa_restarts(
    chatbot: Chatbot, gateway: tuple[TestClient, dict[str, str]]
) -> None:
    first = say(gateway, "a quiet game for a ten month old with no toys")
    chatbot.restart_rasa()  # the conversation (and the games offered) live in Redis
    second = say(gateway, "another one")
    assert first and second and first != second
    assert "another" not in second.lower() or "try" in second.lower()
    assert any(key.startswith("cradle") for key in chatbot.redis.scan_iter("cradle*"))


def test_blank_text_is_refused_and_a_dead_rasa_is_named(
    chatbot: Chatbot, gateway: tuple[TestClient, dict[str, str]]
) -> None:
    app, auth = gateway
    assert app.post("/api/chat", json={"text": "   "}, headers=auth).status_code == 422
    assert app.post("/api/chat", json={"text": "hi"}).status_code == 401
    stop(chatbot.rasa)
    try:
        down = app.post("/api/chat", json={"text": "hi"}, headers=auth)
        assert down.status_code == 503
        assert "chatbot did not answer" in down.json()["detail"]
    finally:
        chatbot.rasa = start_rasa(chatbot.settings, chatbot.logs)
    assert say(gateway, "hi").startswith("Hello")


def test_a_spoken_question_is_heard_answered_and_spoken_back(
    chatbot: Chatbot, gateway: tuple[TestClient, dict[str, str]],
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    """Voice all the way: a question spoken by the Piper voice, Whisper tiny.en in a real
    speech worker, Rasa and the action server, and the reply spoken back."""
    if not (MODELS / "whisper" / "tiny.en-ct2" / "model.bin").is_file():
        pytest.skip("Whisper tiny.en is missing: run `make setup`")
    start_worker("speech", CRADLE_REDIS__URL=chatbot.settings.redis.url or "",
                 CRADLE_DATA_DIR=str(chatbot.settings.data_dir), CRADLE_MODELS__DIR=str(MODELS),
                 CRADLE_SPEECH__MODEL="tiny.en", CRADLE_SPEECH__THREADS="2")
    question = make_engine("piper", MODELS).synthesize_wav("Tell me a calm game for a one year old.")
    app, auth = gateway
    asked = app.post("/api/voice", files={"audio": ("q.wav", question, "audio/wav")}, headers=auth)
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert "game" in body["transcript"].lower()
    assert body["reply_text"] and "try" in body["reply_text"].lower(), body
    assert body["timings_ms"]["chatbot"] > 0
    spoken = app.get(body["reply_audio_url"], headers=auth)
    assert spoken.status_code == 200 and spoken.content.startswith(b"OggS")
