"""The held-out conversations (chatbot/eval/): written for evaluation, never trained on,
run with `rasa test` and through the gateway against the real Rasa, action server and
Redis. Each run writes its failed turns under var/reports/chatbot-conversations/."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from services import rasa_eval
from services import rasa_project as project
from services.auth import Role, UserStore
from services.gateway.app import create_app
from services.settings import Settings
from tests.chatbot.stack import REPORTS, Chatbot

OUT = REPORTS / "chatbot-conversations"
INTENT_ACCURACY = 0.95  # on words the model never saw (issue 17)


@pytest.fixture(scope="module")
def conversations() -> list[rasa_eval.Conversation]:
    return rasa_eval.load()


def test_the_held_out_set_is_large_multi_turn_and_never_trained_on(
    conversations: list[rasa_eval.Conversation],
) -> None:
    assert len(conversations) >= 40
    assert all(len(c.turns) >= 2 for c in conversations), "a conversation has one turn"
    assert len({c.name for c in conversations}) == len(conversations)
    trained = rasa_eval.trained_utterances()
    copied = [t.text for c in conversations for t in c.turns if rasa_eval.normalised(t.text) in trained]
    assert copied == [], f"held-out turns that are in the training data: {copied}"
    domain = yaml.safe_load(project.DOMAIN.read_text())
    unknown = {t.intent for c in conversations for t in c.turns} - set(domain["intents"])
    actions = set(domain["actions"]) | set(domain["responses"]) | set(domain.get("forms", {}))
    assert unknown == set(), f"intents not in the domain: {unknown}"
    assert {a for c in conversations for t in c.turns for a in t.actions} <= actions


def test_the_annotations_come_off_as_the_user_said_them() -> None:
    said = 'he\'s not [sad]{"entity": "mood", "value": "upset"}, he\'s [starving](mood) [at 3 am](period)'
    assert rasa_eval.plain(said) == "he's not sad, he's starving at 3 am"


def test_held_out_conversations_with_rasa_test(rasa_settings: Settings, tmp_path: Path) -> None:
    model, _ = project.train(rasa_settings)
    report = rasa_eval.with_rasa_test(rasa_settings, model, tmp_path)
    written = report.write(OUT)
    assert report.turns >= 80
    assert report.intent_accuracy >= INTENT_ACCURACY, (
        f"intent accuracy {report.intent_accuracy:.3f} on held-out words; failed turns in {written}")


@pytest.fixture(scope="module")
def gateway(chatbot: Chatbot) -> Iterator[TestClient]:
    with TestClient(create_app(chatbot.settings)) as app:
        yield app
    gc.collect()  # the gateway's task results unsubscribe from Redis when collected: now, while it runs


def test_held_out_conversations_through_the_gateway(
    chatbot: Chatbot, gateway: TestClient, conversations: list[rasa_eval.Conversation],
) -> None:
    users = UserStore(chatbot.redis)
    tokens: dict[str, str] = {}

    def sender(n: int) -> str:  # each conversation is its own user, so none carries slots over
        name = f"heldout{n:02d}"
        tokens[name] = users.add(name, Role.parent)[1]
        return name

    def say(name: str, text: str) -> None:
        auth = {"Authorization": f"Bearer {tokens[name]}"}
        answer = gateway.post("/api/chat", json={"text": text}, headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["reply"], f"no reply to {text!r}"

    def tracker(name: str) -> dict[str, Any]:
        got = httpx.get(f"{chatbot.settings.rasa.url}/conversations/{name}/tracker", timeout=30)
        got.raise_for_status()
        body: dict[str, Any] = got.json()
        return body

    report = rasa_eval.replay(conversations, say, tracker, sender)
    written = report.write(OUT)
    assert report.turns == sum(len(c.turns) for c in conversations)
    assert report.intent_accuracy >= INTENT_ACCURACY, (
        f"intent accuracy {report.intent_accuracy:.3f} through the gateway; failed turns in {written}")
    answered = 1 - len(report.failed) / report.turns
    assert answered >= INTENT_ACCURACY, f"{len(report.failed)} turns answered wrongly; see {written}"
