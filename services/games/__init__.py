"""The family's games, a store the gateway and the chatbot's actions share: a YAML catalogue,
a Redis store, and search by filters and meaning."""

from __future__ import annotations

from pathlib import Path

import redis

from services.assets import asset_path
from services.games.embedder import embedder_at
from services.games.model import Energy, Game, GameError, Place, Skill, load_catalogue
from services.games.parse import Told, read_how, read_title, read_told, told_game
from services.games.ranking import Context, Filters
from services.games.store import DuplicateGame, GameStore

__all__ = ["Context", "DuplicateGame", "Energy", "Filters", "Game", "GameError", "GameStore", "Place",
           "Skill", "Told", "load_catalogue", "open_store", "read_how", "read_title", "read_told",
           "told_game"]


def open_store(client: redis.Redis, models_dir: Path) -> GameStore:
    """The store over `client`, with the process's one MiniLM from `models_dir`."""
    return GameStore(client, embedder_at(asset_path(models_dir, "minilm")))
