"""The family's games in Redis: import the catalogue, add, read, rate and search."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import redis
from pydantic import ValidationError

from services.games.embedder import Embedder, Vectors
from services.games.model import CATALOGUE_DIR, Game, GameError, load_catalogue
from services.games.parse import game_from_text
from services.games.ranking import Context, Filters, rating_bonus

log = logging.getLogger(__name__)

PREFIX = "games"
IDS = f"{PREFIX}:ids"  # set of every game id
VERSION = f"{PREFIX}:version"  # bumped on every change, so each process knows its cache is stale
NET = f"{PREFIX}:net"  # hash: game id -> likes minus dislikes
CATALOGUE = f"{PREFIX}:catalogue"  # fingerprint of the catalogue last imported
# A new game this close in meaning (title and steps, MiniLM cosine) to one the store holds
# is the same game told again. The closest two distinct catalogue games are at 0.81; the
# same steps under another title ("talking sock" for "sock puppets") at 0.88 and above.
NEAR_DUPLICATE = 0.86
_TITLE_LEADS = {"the", "a", "an", "our", "my"}


def _game_key(game_id: str) -> str:
    return f"{PREFIX}:game:{game_id}"


def _vector_key(game_id: str) -> str:
    return f"{PREFIX}:vector:{game_id}"


def _votes_key(game_id: str) -> str:
    return f"{PREFIX}:votes:{game_id}"


@dataclass(frozen=True)
class Hit:
    game: Game
    score: float
    meaning: float


class Votes(NamedTuple):
    net: int  # likes minus dislikes, everyone's
    mine: int  # one user's own vote: 1, -1, or 0 when none


class DuplicateGame(GameError):
    """A game the store already holds, told again; `existing` is the one it holds."""

    def __init__(self, existing: Game) -> None:
        super().__init__(f"{existing.title!r} is already saved, as {existing.id}")
        self.existing = existing


def title_key(title: str) -> str:
    """A title as compared for duplicates: "The Sock-Puppet game" and "sock puppets" match."""
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
             for w in re.findall(r"[a-z0-9]+", title.lower())]
    while len(words) > 1 and words[0] in _TITLE_LEADS:
        words = words[1:]
    if len(words) > 1 and words[-1] == "game":
        words = words[:-1]
    return "".join(words)


class GameStore:
    """Games as JSON plus a MiniLM vector each; searched in memory, refreshed when changed."""

    def __init__(self, client: redis.Redis, embedder: Embedder) -> None:
        self.client = client
        self.embedder = embedder
        self._cached_version: str | None = None
        self._games: list[Game] = []
        self._matrix: Vectors = np.zeros((0, 0), dtype=np.float32)

    def save(self, games: list[Game], vectors: Vectors | None = None) -> int:
        """Store (or replace, by id) games with their vectors, encoded here unless given."""
        if not games:
            return 0
        rows = self.embedder.encode([g.text() for g in games]) if vectors is None else vectors
        pipe = self.client.pipeline()
        for game, vector in zip(games, rows, strict=True):
            pipe.set(_game_key(game.id), game.model_dump_json())
            pipe.set(_vector_key(game.id), base64.b64encode(np.asarray(vector, np.float32).tobytes()))
            pipe.sadd(IDS, game.id)
        pipe.incr(VERSION)
        pipe.execute()
        return len(games)

    def import_catalogue(self, folder: Path | None = None) -> int:
        folder = folder or CATALOGUE_DIR
        count = self.save(load_catalogue(folder))
        self.client.set(CATALOGUE, catalogue_fingerprint(folder))
        return count

    def ensure_catalogue(self, folder: Path | None = None) -> int:
        """Import the catalogue when Redis lacks it or holds an older one (a new release);
        the family's own games and every vote are kept. Returns how many were imported."""
        folder = folder or CATALOGUE_DIR
        if self.client.get(CATALOGUE) == catalogue_fingerprint(folder):
            return 0
        return self.import_catalogue(folder)

    def add(self, text: str, added_by: str) -> Game:
        """Save a game told in free text (voice or typed) under the name of who told it."""
        return self.add_game(game_from_text(text, added_by))

    def add_game(self, game: Game) -> Game:
        """Save a new game, its id made unique ("peekaboo-2"); returns it as saved. Raises
        DuplicateGame when the store already holds it (`duplicate_of`)."""
        vector = self.embedder.encode([game.text()])[0]
        existing = self._duplicate_of(game, vector)
        if existing is not None:
            raise DuplicateGame(existing)
        base, number = game.id, 1
        while self.client.sismember(IDS, game.id):  # never overwrite a game someone else saved
            number += 1
            game = game.model_copy(update={"id": f"{base}-{number}"})
        self.save([game], vector[None, :])
        return game

    def duplicate_of(self, game: Game) -> Game | None:
        """The game the store holds that `game` tells again: the same title (as `title_key`
        reads it), else the closest in meaning at NEAR_DUPLICATE or above; None if none."""
        return self._duplicate_of(game, self.embedder.encode([game.text()])[0])

    def _duplicate_of(self, game: Game, vector: Vectors) -> Game | None:
        self._refresh()
        key = title_key(game.title)
        same = next((g for g in self._games if title_key(g.title) == key), None)
        if same is not None or not self._games:
            return same
        meanings = self._matrix @ vector
        best = int(np.argmax(meanings))
        return self._games[best] if float(meanings[best]) >= NEAR_DUPLICATE else None

    def get(self, game_id: str) -> Game:
        raw = self.client.get(_game_key(game_id))
        if raw is None:
            raise GameError(f"no game with id {game_id!r}; `cradle games list` shows the ids")
        return parse_game_json(str(raw))

    def all(self) -> list[Game]:
        self._refresh()
        return list(self._games)

    def rate(self, game_id: str, user: str, liked: bool) -> int:
        """One vote per user per game (a new vote replaces the old); returns the net likes."""
        self.get(game_id)
        vote = 1 if liked else -1
        previous = self.client.hget(_votes_key(game_id), user)
        delta = vote - int(str(previous)) if previous is not None else vote
        pipe = self.client.pipeline()
        pipe.hset(_votes_key(game_id), user, vote)
        pipe.hincrby(NET, game_id, delta)
        results = pipe.execute()
        return int(results[1])

    def votes(self, user: str, game_ids: Sequence[str]) -> dict[str, Votes]:
        """Each game's net likes and `user`'s own vote on it (1, -1, or 0 when none)."""
        if not game_ids:
            return {}
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(NET, list(game_ids))
        for game_id in game_ids:
            pipe.hget(_votes_key(game_id), user)
        net, *mine = pipe.execute()
        return {
            game_id: Votes(int(likes or 0), int(vote or 0))
            for game_id, likes, vote in zip(game_ids, net, mine, strict=True)
        }

    def search(
        self,
        query: str = "",
        filters: Filters | None = None,
        context: Context | None = None,
        limit: int = 5,
    ) -> list[Hit]:
        """Games that pass every filter, best first: meaning of `query`, then ratings, context."""
        self._refresh()
        filters, context = filters or Filters(), context or Context()
        keep = [i for i, game in enumerate(self._games) if filters.allows(game)]
        if not keep:
            return []
        if query.strip():
            meanings = self._matrix[keep] @ self.embedder.encode([query])[0]
        else:
            meanings = np.zeros(len(keep), dtype=np.float32)
        net = {k: int(v) for k, v in self.client.hgetall(NET).items()}
        hits = []
        for index, meaning in zip(keep, meanings.tolist(), strict=True):
            game = self._games[index]
            score = meaning + rating_bonus(net.get(game.id, 0)) + context.bonus(game)
            hits.append(Hit(game, score, meaning))
        hits.sort(key=lambda h: (-h.score, h.game.title))
        return hits[:limit]

    def _refresh(self) -> None:
        version = self.client.get(VERSION)
        current = None if version is None else str(version)
        if current == self._cached_version and self._games:
            return
        ids = sorted(str(i) for i in self.client.smembers(IDS))
        games_raw = self.client.mget([_game_key(i) for i in ids]) if ids else []
        vectors_raw = self.client.mget([_vector_key(i) for i in ids]) if ids else []
        games, rows = [], []
        for game_id, raw, vector in zip(ids, games_raw, vectors_raw, strict=True):
            if raw is None or not vector:
                continue
            try:
                game = parse_game_json(str(raw))
            except GameError as exc:  # one bad game (saved before today's bounds) spoils no search
                log.error("game %s left out of searches: %s", game_id, exc)
                continue
            games.append(game)
            rows.append(np.frombuffer(base64.b64decode(str(vector)), dtype=np.float32))
        self._games = games
        self._matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        self._cached_version = current


def catalogue_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def parse_game_json(raw: str) -> Game:
    try:
        return Game.model_validate_json(raw)
    except ValidationError as exc:
        raise GameError(f"a stored game is damaged ({exc}); run `cradle games import` again") from exc
