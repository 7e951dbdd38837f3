"""The chatbot seam, against the real thing: a Rasa 3.6 server (its own Python 3.10
environment, the trained model), the action server (rasa-sdk) and the gateway, over a
Redis that holds the timeline, the games and Rasa's conversations.

The Rasa server and the action server are the session's (`chatbot` in tests/conftest.py,
tests/chatbot/stack.py): a test that stops Rasa starts it again before it ends.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.auth import Role, UserStore
from services.bus.events import MoodObserved, utcnow
from services.gateway.app import create_app
from services.timeline.store import PREFIX as TIMELINE
from services.timeline.store import Timeline
from tests.chatbot.stack import MODELS, Chatbot, spoken, start_rasa, stop
from tests.conftest import require


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
    written = [MoodObserved(id=f"mood-{seconds:05d}", occurred_at=now - timedelta(seconds=seconds),
                            child="Baby", camera="demo", frame_id=f"frame-{seconds:05d}", mood="happy",
                            probabilities={"feed": 0.05, "happy": 0.9, "upset": 0.03, "sleep": 0.02},
                            model_version="test")
               for seconds in range(600, 0, -30)]  # ten minutes of a happy baby, a frame every 30 s
    for event in written:
        timeline.add(event)
    try:
        reply = say(gateway, "um how is she doing")
        assert "happy" in reply.lower()
        assert not any(mark in reply for mark in "*_#`[]")
    finally:
        # The chatbot's Redis serves the whole session: a happy run left on Baby's timeline
        # would cut through the web tests' day written there later (their feed, for one).
        chatbot.redis.zrem(f"{TIMELINE}:Baby:mood.observed", *(e.model_dump_json() for e in written))


def test_a_game_search_continues_after_rasa_restarts(
    chatbot: Chatbot, gateway: tuple[TestClient, dict[str, str]]
) -> None:
    first = say(gateway, "a quiet game for a ten month old with no toys")
    chatbot.restart_rasa()  # the conversation (and the games offered) live in Redis
    second = say(gateway, "another one")
    assert first and second and first != second
    assert "another" not in second.lower() or "try" in second.lower()
    assert any(key.startswith("cradle") for key in chatbot.redis.scan_iter("cradle*"))


def test_a_long_conversation_is_kept_short_and_loses_nothing_it_needs(chatbot: Chatbot) -> None:
    """Past the tracker store's 12 turns, Redis holds the last 12 after a session start that
    restores the slots: the first search's games are still never offered again."""
    _user, token = UserStore(chatbot.redis).add("gran", Role.parent)
    with TestClient(create_app(chatbot.settings)) as app:
        talk = (app, {"Authorization": f"Bearer {token}"})
        replies = [say(talk, "a game idea please"), *(say(talk, "another one") for _ in range(15))]
    offered = [found.group(1) for reply in replies if (found := re.match(r"Try (.+?)\. ", reply))]
    assert len(offered) == len(replies), replies
    assert len(set(offered)) == len(offered), offered
    stored = json.loads(chatbot.redis.get("cradle:tracker:gran") or "{}")["events"]
    assert sum(event["event"] == "user" for event in stored) == 12
    assert [event["event"] for event in stored[:2]] == ["action", "session_started"]
    restored = {event["name"] for event in stored if event["event"] == "slot"}
    assert {"game_search", "game_offered", "game_current"} <= restored


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
    require((MODELS / "whisper" / "tiny.en-ct2" / "model.bin").is_file(),
            "Whisper tiny.en is missing: run `make setup`")
    start_worker("speech", CRADLE_REDIS__URL=chatbot.settings.redis.url or "",
                 CRADLE_DATA_DIR=str(chatbot.settings.data_dir), CRADLE_MODELS__DIR=str(MODELS),
                 CRADLE_SPEECH__MODEL="tiny.en", CRADLE_SPEECH__THREADS="2")
    question = spoken("Tell me a calm game for a one year old.")
    app, auth = gateway
    asked = app.post("/api/voice", files={"audio": ("q.wav", question, "audio/wav")}, headers=auth)
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert "game" in body["transcript"].lower()
    assert body["reply_text"] and "try" in body["reply_text"].lower(), body
    assert body["timings_ms"]["chatbot"] > 0
    reply = app.get(body["reply_audio_url"], headers=auth)
    assert reply.status_code == 200 and reply.content.startswith(b"OggS")


def test_two_messages_of_one_conversation_at_once_are_both_answered_in_turn(chatbot: Chatbot) -> None:
    """Rasa's lock lets one message of a conversation in at a time; the one that waits is
    answered after it (the lock store here, addons/lock_store.py, looks every 20 ms)."""
    _user, token = UserStore(chatbot.redis).add("aunt", Role.parent)
    with TestClient(create_app(chatbot.settings)) as app, ThreadPoolExecutor(2) as pool:
        talk = (app, {"Authorization": f"Bearer {token}"})
        replies = list(pool.map(lambda text: say(talk, text), ["hello", "good morning"]))
    assert all(reply.startswith("Hello") for reply in replies), replies
    stored = json.loads(chatbot.redis.get("cradle:tracker:aunt") or "{}")["events"]
    heard = [event["text"] for event in stored if event["event"] == "user"]
    assert sorted(heard) == ["good morning", "hello"], heard
    assert not list(chatbot.redis.scan_iter("cradle*lock*aunt*"))  # each ticket given back
