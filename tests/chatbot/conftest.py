"""The MiniLM embedder, loaded once for every games test."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.games.embedder import Embedder, embedder_at
from services.assets import asset_path
from services.settings import load_settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    path = asset_path(load_settings(environment="test").models_dir, "minilm")
    if not Path(path, "modules.json").exists():
        pytest.fail(f"MiniLM weights missing at {path}; run `cradle assets fetch`")
    return embedder_at(path)
