"""The family's games: a YAML catalogue, a Redis store, and search by filters and meaning."""

from __future__ import annotations

from pathlib import Path

import redis

from chatbot.games.embedder import embedder_at
from chatbot.games.store import GameStore
from services.assets import asset_path


def open_store(client: redis.Redis, models_dir: Path) -> GameStore:
    """The store over `client`, with the process's one MiniLM from `models_dir`."""
    return GameStore(client, embedder_at(asset_path(models_dir, "minilm")))
