"""`cradle family`: naming the children from the command line, with a sentence and exit
code 2 for what cannot be done; the store (and so every part) sees the change at once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from services.auth import Role, UserStore
from services.cli.main import app
from services.family import FamilyStore
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings


@pytest.fixture
def family(monkeypatch: pytest.MonkeyPatch, redis_server: EmbeddedRedis, tmp_path: Path,
           client: redis.Redis) -> FamilyStore:
    monkeypatch.setenv("CRADLE_REDIS__URL", redis_server.url)
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path))
    return FamilyStore(client, load_settings(redis={"url": redis_server.url}, data_dir=tmp_path))


def cradle(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["family", *args], terminal_width=200)
    return result.exit_code, " ".join(result.output.split())


def test_add_edit_list_and_remove_a_child(family: FamilyStore) -> None:
    code, said = cradle("add-child", "Zoë", "--born", "2025-03-14", "--pronoun", "she", "--camera", "demo",
                        "--nickname", "Zozo", "--nickname", "Bug")
    assert code == 0, said
    assert said == "Added Zoë (she; born 2025-03-14; watched by demo)."
    zoe = family.get("zoe")
    assert (zoe.name, zoe.born, zoe.pronoun, zoe.cameras, zoe.nicknames) == (
        "Zoë", date(2025, 3, 14), "she", ("demo",), ("Zozo", "Bug"))
    assert family.get("Baby").cameras == ()  # the demo camera watches Zoë now

    code, said = cradle("edit", "ZOZO", "--name", "Zoé Anne", "--pronoun", "they", "--no-nicknames")
    assert code == 0 and said == "Now Zoé Anne (they; born 2025-03-14; watched by demo).", said
    assert family.get("zoe anne").nicknames == ()

    UserStore(family.client).add("Anna", Role.parent)
    UserStore(family.client).add("Nana", Role.caregiver)
    code, said = cradle("list")
    assert code == 0, said
    rows = " ".join(said.replace("│", " ").split())
    assert "Baby she" in rows and "Zoé Anne they 2025-03-14" in rows and "demo zoe" in rows
    assert "Anna parent" in rows and "Nana caregiver" in rows

    assert cradle("remove", "zoe anne's") == (0, "Removed Zoé Anne.")
    assert [c.name for c in family.children()] == ["Baby"]


@pytest.mark.parametrize("args, why", [
    (("add-child", "Leo", "--born", "14/03/2025"), "is not a date: write it YYYY-MM-DD"),
    (("add-child", "Leo", "--born", (date.today() + timedelta(days=2)).isoformat()), "is in the future"),
    (("add-child", "Leo", "--born", "1990-01-01"), "more than 18 years ago"),
    (("add-child", "Leo", "--born", "2025-01-01", "--camera", "garage"), "no camera called garage"),
    (("add-child", "baby", "--born", "2025-01-01"), "Baby is already called baby"),
    (("add-child", "Leo", "--born", "2025-01-01", "--nickname", "BABY"), "already called baby"),
    (("remove", "Baby"), "Baby is the family's only child"),
    (("edit", "Harper", "--pronoun", "she"), "no child called 'Harper' (the family has Baby)"),
    (("edit", "Baby"), "nothing to change"),
])
def test_what_cannot_be_done_is_one_sentence_and_exit_code_2(family: FamilyStore, args: tuple[str, ...],
                                                             why: str) -> None:
    code, said = cradle(*args)
    assert code == 2 and why in said, said
    assert "Traceback" not in said
    assert [c.name for c in family.children()] == ["Baby"]


def test_a_pronoun_is_she_he_or_they(family: FamilyStore) -> None:
    code, said = cradle("add-child", "Leo", "--born", "2025-01-01", "--pronoun", "it")
    assert code == 2 and "she" in said and "they" in said
