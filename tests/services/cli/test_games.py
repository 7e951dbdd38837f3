"""`cradle games` against the session's Redis and the real MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from services.cli import games
from services.cli.main import app
from services.games.embedder import Embedder
from services.games.model import load_catalogue
from services.redis_runtime import EmbeddedRedis
from services.settings import get_settings


def test_import_search_add_show(
    client: redis.Redis, redis_server: EmbeddedRedis, embedder: Embedder,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRADLE_REDIS__URL", redis_server.url)
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(games.console, "width", 200)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        imported = runner.invoke(app, ["games", "import"])
        found = runner.invoke(app, ["games", "search", "splashing", "--place", "car", "--age-months", "30"])
        added = runner.invoke(app, ["games", "add", "a game where we blow on dandelions", "--by", "Ben"])
        shown = runner.invoke(app, ["games", "show", "blow-on-dandelions"])
        missing = runner.invoke(app, ["games", "show", "nope"])
    finally:
        get_settings.cache_clear()
    assert imported.exit_code == 0 and f"Imported {len(load_catalogue())} games" in imported.output
    assert found.exit_code == 0 and found.output.count("car") >= 5
    assert "sink-or-float" not in found.output and "bath-pouring-cups" not in found.output
    assert added.exit_code == 0 and "added by Ben" in added.output
    assert shown.exit_code == 0 and "Added by Ben." in shown.output
    assert missing.exit_code == 1 and "no game with id 'nope'" in missing.output
