"""The family's games: `GET /api/games` (search by words and filters), `GET /api/games/{id}`,
`PUT /api/games/{id}/vote`, `POST /api/games` (add one; 409 with the existing game's id
when the family already has it) and `POST /api/games/{id}/speech`
(the game read aloud by Cradle's own voice).

The store (services/games) is opened once per app, on first use, and the shipped
catalogue imported then if Redis lacks it, so the games are there without the chatbot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema
from starlette.concurrency import run_in_threadpool

from services.games import (
    DuplicateGame,
    Energy,
    Filters,
    Game,
    GameError,
    GameStore,
    Place,
    Skill,
    open_store,
)
from services.gateway.deps import CurrentUser, State
from services.gateway.state import GatewayState
from services.tasks import SPEAK, wait_for_task

router = APIRouter(prefix="/api/games", tags=["games"])
log = logging.getLogger("cradle.games")
T = TypeVar("T")


class Games:
    """The app's one game store. Calls run one at a time: the store's search cache and
    MiniLM are not meant for threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: GameStore | None = None

    def run(self, state: GatewayState, work: Callable[[GameStore], T]) -> T:
        """`work(store)`, blocking: call it in a threadpool."""
        with self._lock:
            if self._store is None or self._store.client is not state.redis:
                store = open_store(state.redis, state.settings.models_dir)
                store.ensure_catalogue()  # encodes the catalogue with MiniLM the first time
                self._store = store
            return work(self._store)


async def _games(request: Request) -> Games:
    # Async, so it runs on the event loop alone: no two requests make a second store.
    games: Games | None = getattr(request.app.state, "games", None)
    if games is None:
        games = request.app.state.games = Games()
    return games


GamesDep = Annotated[Games, Depends(_games)]


class GameOut(Game):
    likes: int = Field(description="Likes minus dislikes, everyone's.")
    my_vote: Literal[-1, 0, 1] = Field(description="Your own vote: 1 liked, -1 disliked, 0 none.")


class GameList(BaseModel):
    games: list[GameOut]


class NewGame(Game):
    """A game to add: every field of a game but `id` (made from the title) and `added_by`
    (whoever is signed in)."""

    id: SkipJsonSchema[str] = ""
    added_by: SkipJsonSchema[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _made_here(cls, data: Any) -> Any:
        given = sorted({"id", "added_by"} & set(data)) if isinstance(data, dict) else []
        if given:
            raise ValueError(f"leave out {' and '.join(given)}: the id comes from the title, "
                             "added_by is whoever is signed in")
        return data


class Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    liked: StrictBool = Field(description="true: liked it; false: did not.")


class Voted(BaseModel):
    id: str
    likes: int
    my_vote: Literal[-1, 1]


class Speech(BaseModel):
    audio_url: str


def _out(store: GameStore, user: str, games: list[Game]) -> list[GameOut]:
    votes = store.votes(user, [game.id for game in games])
    return [GameOut(**game.model_dump(), likes=votes[game.id].net, my_vote=votes[game.id].mine)
            for game in games]


def _one(store: GameStore, user: str, game_id: str) -> GameOut:
    (found,) = _out(store, user, [store.get(game_id)])
    return found


async def _run(games: Games, state: GatewayState, work: Callable[[GameStore], T]) -> T:
    """`work` in a threadpool; an unknown game id is a 404 that says so, a game the store
    already holds a 409 naming it."""
    try:
        return await run_in_threadpool(games.run, state, work)
    except DuplicateGame as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {
            "message": f"the family already has this game: {exc.existing.title}", "id": exc.existing.id,
        }) from exc
    except GameError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.get("", response_model=GameList, summary="Games that pass every filter, best first")
async def search(
    user: CurrentUser, state: State, games: GamesDep,
    q: Annotated[str, Query(max_length=200, description="What you are after, in words.")] = "",
    age_months: Annotated[int | None, Query(ge=0, le=48)] = None,
    place: Place | None = None,
    energy: Energy | None = None,
    no_toys: bool = False,
    skill: Skill | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, list[GameOut]]:
    filters = Filters(age_months=age_months, place=place, energy=energy, no_toys=no_toys, skill=skill)

    def find(store: GameStore) -> list[GameOut]:
        hits = store.search(q, filters, limit=limit)
        return _out(store, user.name, [hit.game for hit in hits])

    return {"games": await _run(games, state, find)}


@router.get("/{game_id}", response_model=GameOut, summary="One game")
async def game(game_id: str, user: CurrentUser, state: State, games: GamesDep) -> GameOut:
    return await _run(games, state, lambda store: _one(store, user.name, game_id))


@router.put("/{game_id}/vote", response_model=Voted, summary="Like or dislike a game (replaces your vote)")
async def vote(game_id: str, body: Vote, user: CurrentUser, state: State, games: GamesDep) -> Voted:
    likes = await _run(games, state, lambda store: store.rate(game_id, user.name, body.liked))
    return Voted(id=game_id, likes=likes, my_vote=1 if body.liked else -1)


@router.post("", response_model=GameOut, status_code=status.HTTP_201_CREATED, summary="Add a game",
             responses={409: {"description": "Already saved: `detail.id` is the game the family has."}})
async def add(body: NewGame, user: CurrentUser, state: State, games: GamesDep) -> GameOut:
    new = Game(**body.model_dump(exclude={"added_by"}), added_by=user.name)

    def save(store: GameStore) -> GameOut:
        return _one(store, user.name, store.add_game(new).id)

    return await _run(games, state, save)


def _read_aloud(game: Game) -> str:
    sentences = [game.title, *game.steps, f"Safety: {game.safety}"]
    return " ".join(s if s.rstrip()[-1:] in ".!?" else f"{s.rstrip()}." for s in sentences)


@router.post("/{game_id}/speech", response_model=Speech, summary="The game read aloud")
async def speech(game_id: str, _user: CurrentUser, state: State, games: GamesDep) -> Speech:
    found = await _run(games, state, lambda store: store.get(game_id))
    try:
        spoken = await run_in_threadpool(wait_for_task, state.celery, SPEAK, [_read_aloud(found)],
                                         state.settings.speech.timeout_s)
        return Speech(audio_url=f"/api/voice/replies/{spoken['file']}")
    except Exception as exc:
        log.exception("game %s could not be spoken", game_id)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"Cradle's voice is unavailable ({type(exc).__name__}): is the speech worker running?",
        ) from exc
