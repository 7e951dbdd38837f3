"""`cradle models`: list, show, promote and roll back versions in a real registry folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.registry import Registry
from services.cli.main import app
from services.settings import get_settings


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CRADLE_MODELS__DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


def cradle(_models: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["models", *args])


def test_list_show_promote_and_roll_back(models: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    registry = Registry(models, "mood")
    kept = registry.add(checkpoint, {"scores": {"accuracy": 0.83}, "verdict": "accuracy 83%",
                                     "family": "mood"})

    listed = cradle(models, "list")
    assert listed.exit_code == 0, listed.output
    assert "mood: the demo model" in listed.output and kept.name in listed.output
    assert "accuracy 83%" in listed.output and "candidate" in listed.output

    shown = cradle(models, "show", kept.name)
    assert shown.exit_code == 0 and json.loads(shown.output)["scores"] == {"accuracy": 0.83}

    promoted = cradle(models, "promote", kept.name, "--why", "we checked it ourselves")
    assert promoted.exit_code == 0 and "serves now" in promoted.output
    assert registry.current() == kept and registry.history()[-1]["why"] == "we checked it ourselves"
    assert "▶" in next(line for line in cradle(models, "list").output.splitlines() if kept.name in line)

    back = cradle(models, "rollback")
    assert back.exit_code == 0 and "mood: the demo model serves again" in back.output
    assert registry.current() is None
    assert cradle(models, "rollback").exit_code == 1  # nothing left to roll back
    unknown = cradle(models, "show", "mood-20990101-000000-00000000")
    assert unknown.exit_code == 1 and "no mood version" in unknown.output
    assert cradle(models, "promote", "speech-1").exit_code == 2
