"""The Rasa project's bookkeeping: what a model's name depends on, and the addresses
endpoints.yml is given. Pure logic; Rasa itself runs in test_rasa.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services import rasa_project as project
from services.settings import load_settings


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "chatbot"
    folder.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(project.PROJECT_DIR / name, folder / name)
    shutil.copytree(project.DATA, folder / "data")
    return folder


def test_the_fingerprint_follows_the_training_data_only(copy: Path) -> None:
    before = project.fingerprint(project=copy)
    assert before == project.fingerprint(project=copy)  # stable
    (copy / "data" / "notes.txt").write_text("not training data")
    assert project.fingerprint(project=copy) == before
    nlu = next((copy / "data" / "nlu").glob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    changed = project.fingerprint(project=copy)
    assert changed != before
    (copy / "config.yml").write_text((copy / "config.yml").read_text() + "# a comment is a change\n")
    assert project.fingerprint(project=copy) != changed


def test_every_training_file_counts(copy: Path) -> None:
    names = {p.relative_to(copy).as_posix() for p in project.sources(copy)}
    assert {"config.yml", "domain.yml"} <= names
    assert any(n.startswith("data/nlu/") for n in names)
    assert any(n.startswith("data/rules/") for n in names)
    assert any(n.startswith("data/stories/") for n in names)


@pytest.mark.parametrize(("url", "host", "port", "db", "password"), [
    ("redis://127.0.0.1:6379", "127.0.0.1", "6379", "0", ""),
    ("redis://localhost:7000/3", "localhost", "7000", "3", ""),
    ("redis://:s3cret@redis.home:6380/2", "redis.home", "6380", "2", "s3cret"),
    ("redis://redis", "redis", "6379", "0", ""),
])
def test_rasa_is_given_cradles_redis(url: str, host: str, port: str, db: str, password: str) -> None:
    settings = load_settings(environment="test", rasa={"actions_url": "http://127.0.0.1:5056/webhook"})
    env = project.rasa_env(settings, url)
    given = (env["RASA_REDIS_HOST"], env["RASA_REDIS_PORT"], env["RASA_REDIS_DB"], env["RASA_REDIS_PASSWORD"])
    assert given == (host, port, db, password)
    assert env["RASA_ACTIONS_URL"] == "http://127.0.0.1:5056/webhook"
    assert int(env["RASA_TRACKER_TTL_S"]) == 30 * 86400


def test_endpoints_read_every_variable_rasa_env_gives() -> None:
    text = project.ENDPOINTS.read_text()
    settings = load_settings(environment="test")
    for name in project.rasa_env(settings, "redis://127.0.0.1:6379"):
        assert "${" + name + "}" in text


def test_a_missing_rasa_environment_says_how_to_build_it(tmp_path: Path) -> None:
    settings = load_settings(environment="test", rasa={"venv": tmp_path / "nowhere"})
    with pytest.raises(project.ChatbotError, match=r"scripts/setup\.sh"):
        project.rasa_command(settings)
