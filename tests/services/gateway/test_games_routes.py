"""The games routes with the real Redis, the real MiniLM and (when one can run here) a real
speech worker behind them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from models.speech.tts import PIPER_VOICE
from services.assets import asset_path
from services.games.model import Energy, Place, Skill
from services.gateway.app import create_app
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings, load_settings
from tests.conftest import require
from tests.services.gateway.conftest import Auth, token

SCARF_DANCE: dict[str, Any] = {
    "title": "Rainbow scarf dance",
    "age_months": [10, 30],
    "places": ["indoor"],
    "energy": "active",
    "materials": ["scarf"],
    "minutes": 10,
    "skills": ["motor", "music"],
    "steps": ["Put on a song.", "Wave a scarf high and low", "Stop when the music stops!"],
    "safety": "Keep scarves away from the face and put them away after.",
}


def make_settings(redis_url: str, data_dir: Path, speech_timeout_s: float) -> Settings:
    return load_settings(
        redis={"url": redis_url}, data_dir=data_dir, environment="test", rasa={"enabled": False},
        speech={"timeout_s": speech_timeout_s},
    )


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    """No speech worker here: give up on it within a second."""
    found = make_settings(redis_server.url, tmp_path / "data", speech_timeout_s=1.0)
    if not (asset_path(found.models_dir, "minilm") / "modules.json").exists():
        pytest.fail(f"MiniLM missing under {found.models_dir}; run `cradle assets fetch`")
    return found


def search(gateway: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    answer = gateway.get("/api/games", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    games: list[dict[str, Any]] = answer.json()["games"]
    return games


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/games"), ("GET", "/api/games/peekaboo"), ("PUT", "/api/games/peekaboo/vote"),
    ("POST", "/api/games"), ("POST", "/api/games/peekaboo/speech"),
])
def test_every_route_needs_the_token(gateway: TestClient, method: str, path: str) -> None:
    assert gateway.request(method, path).status_code == 401


def test_a_game_has_every_field_and_the_votes(gateway: TestClient, anna: Auth) -> None:
    peekaboo = gateway.get("/api/games/peekaboo", headers=anna).json()
    assert set(peekaboo) == {"id", "title", "age_months", "places", "energy", "materials", "minutes",
                             "skills", "steps", "safety", "added_by", "likes", "my_vote"}
    assert peekaboo["id"] == "peekaboo" and peekaboo["title"] == "Peekaboo"
    assert peekaboo["likes"] == 0 and peekaboo["my_vote"] == 0 and peekaboo["added_by"] == ""
    low, high = peekaboo["age_months"]
    assert 0 <= low <= high <= 48

    unknown = gateway.get("/api/games/no-such-game", headers=anna)
    assert unknown.status_code == 404 and "no-such-game" in unknown.json()["detail"]


filters = st.fixed_dictionaries({}, optional={
    "age_months": st.integers(0, 48),
    "place": st.sampled_from(list(Place)),
    "energy": st.sampled_from(list(Energy)),
    "no_toys": st.booleans(),
    "skill": st.sampled_from(list(Skill)),
    "q": st.sampled_from(["", "something quiet", "splashing water", "a song in the car"]),
})


def passes(wanted: dict[str, Any], game: dict[str, Any]) -> bool:
    """Whether `game` passes every filter in `wanted`, as the test reads the filters."""
    low, high = game["age_months"]
    return (("age_months" not in wanted or low <= wanted["age_months"] <= high)
            and ("place" not in wanted or wanted["place"] in game["places"])
            and ("energy" not in wanted or game["energy"] == wanted["energy"])
            and not (wanted.get("no_toys") and game["materials"])
            and ("skill" not in wanted or wanted["skill"] in game["skills"]))


@examples(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=filters)
def test_every_game_found_passes_every_filter(gateway: TestClient, anna: Auth,
                                              wanted: dict[str, Any]) -> None:
    found = search(gateway, anna, limit=200, **wanted)
    assert [game["id"] for game in found if not passes(wanted, game)] == []
    # and none is left out, so an empty answer cannot pass on its own
    every = search(gateway, anna, limit=200)
    assert sorted(g["id"] for g in found) == sorted(g["id"] for g in every if passes(wanted, g))
    if not wanted:
        assert len(found) >= 150  # the whole catalogue, imported on first use


def test_never_a_bath_game_in_the_car(gateway: TestClient, anna: Auth) -> None:
    found = search(gateway, anna, q="splashing in the water", place="car", age_months=30)
    assert found and all("car" in game["places"] for game in found)
    assert len(search(gateway, anna, limit=3)) == 3


def test_words_rank_the_closest_game_first(gateway: TestClient, anna: Auth) -> None:
    for_any_age = [g["id"] for g in search(gateway, anna, q="hide and seek for a baby", limit=3)]
    assert "peekaboo" in for_any_age
    (first, *_rest) = search(gateway, anna, q="hide and seek for a baby", age_months=8, limit=5)
    assert "peekaboo" in first["id"], [first, *_rest]


@pytest.mark.parametrize("params", [
    {"age_months": 49}, {"age_months": -1}, {"place": "moon"}, {"energy": "wild"}, {"skill": "maths"},
    {"limit": 0}, {"limit": 201}, {"q": "x" * 201}, {"no_toys": "perhaps"},
])
def test_bad_filters_are_422(gateway: TestClient, anna: Auth, params: dict[str, Any]) -> None:
    assert gateway.get("/api/games", params=params, headers=anna).status_code == 422


def test_a_new_vote_replaces_the_old_one(gateway: TestClient, client: redis.Redis, anna: Auth) -> None:
    ben = token(client, "Ben")

    def vote(auth: Auth, liked: bool) -> dict[str, Any]:
        answer = gateway.put("/api/games/peekaboo/vote", json={"liked": liked}, headers=auth)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert vote(anna, True) == {"id": "peekaboo", "likes": 1, "my_vote": 1}
    assert vote(anna, False) == {"id": "peekaboo", "likes": -1, "my_vote": -1}
    assert vote(ben, True) == {"id": "peekaboo", "likes": 0, "my_vote": 1}
    assert vote(ben, True)["likes"] == 0  # the same vote again counts once

    mine = gateway.get("/api/games/peekaboo", headers=anna).json()
    bens = gateway.get("/api/games/peekaboo", headers=ben).json()
    assert (mine["likes"], mine["my_vote"], bens["likes"], bens["my_vote"]) == (0, -1, 0, 1)
    listed = {g["id"]: g for g in search(gateway, anna, q="peekaboo", limit=200)}
    assert (listed["peekaboo"]["likes"], listed["peekaboo"]["my_vote"]) == (0, -1)

    assert gateway.put("/api/games/no-such-game/vote", json={"liked": True}, headers=anna).status_code == 404
    for bad in ({"liked": "yes"}, {}, {"liked": True, "stars": 5}):
        assert gateway.put("/api/games/peekaboo/vote", json=bad, headers=anna).status_code == 422


def test_an_added_game_is_found_by_id_and_by_search(gateway: TestClient, anna: Auth) -> None:
    added = gateway.post("/api/games", json=SCARF_DANCE, headers=anna)
    assert added.status_code == 201, added.text
    game = added.json()
    assert game["id"] == "rainbow-scarf-dance" and game["added_by"] == "Anna"
    assert game["age_months"] == [10, 30] and game["likes"] == 0 and game["my_vote"] == 0
    assert gateway.get(f"/api/games/{game['id']}", headers=anna).json() == game

    found = search(gateway, anna, q="dancing with a scarf", age_months=20, place="indoor", energy="active")
    assert game["id"] in [g["id"] for g in found]
    assert game["id"] not in [g["id"] for g in search(gateway, anna, age_months=31, limit=200)]



def test_a_game_added_twice_is_409_naming_the_one_saved(gateway: TestClient, anna: Auth,
                                                         client: redis.Redis) -> None:
    first = gateway.post("/api/games", json=SCARF_DANCE, headers=anna).json()
    count, ben = len(search(gateway, anna, limit=200)), token(client, "Ben")
    for again in (SCARF_DANCE, {**SCARF_DANCE, "title": "The rainbow scarf dances"},  # the same title
                  {**SCARF_DANCE, "title": "Colourful scarf dancing"}):  # the same steps
        answer = gateway.post("/api/games", json=again, headers=ben)
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"]["id"] == first["id"] == "rainbow-scarf-dance"
        assert "Rainbow scarf dance" in answer.json()["detail"]["message"]
    assert len(search(gateway, anna, limit=200)) == count
    assert gateway.get("/api/games/rainbow-scarf-dance", headers=anna).json()["added_by"] == "Anna"


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in SCARF_DANCE.items() if k != field}


@pytest.mark.parametrize(("body", "says"), [
    (without("title"), "title"),
    (without("steps"), "steps"),
    ({**SCARF_DANCE, "age_months": [30, 2]}, "0 <= min <= max <= 48"),
    ({**SCARF_DANCE, "places": ["moon"]}, "places"),
    ({**SCARF_DANCE, "steps": ["Only one step."]}, "steps"),
    ({**SCARF_DANCE, "title": "!!!"}, "letters or digits"),
    ({**SCARF_DANCE, "id": "mine"}, "leave out id"),
    ({**SCARF_DANCE, "added_by": "Ben"}, "added_by"),
    ({**SCARF_DANCE, "colour": "red"}, "colour"),
    ([SCARF_DANCE], "dictionary"),
])
def test_a_malformed_game_is_422_saying_why(gateway: TestClient, anna: Auth, body: Any, says: str) -> None:
    answer = gateway.post("/api/games", json=body, headers=anna)
    assert answer.status_code == 422, answer.text
    assert says in answer.text


def test_a_body_that_is_not_json_is_422(gateway: TestClient, anna: Auth) -> None:
    headers = {**anna, "Content-Type": "application/json"}
    assert gateway.post("/api/games", content=b"{not json", headers=headers).status_code == 422
    assert gateway.post("/api/games", content=b"title=Peekaboo", headers=anna).status_code == 422


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(sorted(SCARF_DANCE)), json_values, max_size=3))
def test_no_body_makes_the_gateway_fail(gateway: TestClient, anna: Auth, changes: dict[str, Any]) -> None:
    answer = gateway.post("/api/games", json={**SCARF_DANCE, **changes}, headers=anna)
    assert answer.status_code in (201, 409, 422), answer.text  # 409: a body like one saved before


def test_speech_without_a_speech_worker_is_503_saying_so(gateway: TestClient, anna: Auth) -> None:
    answer = gateway.post("/api/games/peekaboo/speech", headers=anna)
    assert answer.status_code == 503
    assert "speech worker" in answer.json()["detail"]
    assert gateway.post("/api/games/no-such-game/speech", headers=anna).status_code == 404


def tts_engine(settings: Settings) -> str | None:
    if (settings.models_dir / PIPER_VOICE).is_file():
        return "piper"
    return "espeak" if shutil.which("espeak-ng") else None


def test_a_game_read_aloud_by_the_speech_worker(
    redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path, settings: Settings,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    engine = tts_engine(settings)
    require(engine is not None and shutil.which("ffmpeg") is not None,
            "no Piper voice or espeak-ng, or no ffmpeg: run `make setup`")
    start_worker("speech", CRADLE_SPEECH__TTS_ENGINE=engine)
    patient = make_settings(redis_server.url, tmp_path / "data", speech_timeout_s=120)
    auth = token(client, "Anna")
    with TestClient(create_app(patient)) as gateway:
        answer = gateway.post("/api/games/peekaboo/speech", headers=auth)
        assert answer.status_code == 200, answer.text
        url = answer.json()["audio_url"]
        assert url.startswith("/api/voice/replies/") and url.endswith(".ogg")
        audio = gateway.get(url, headers=auth)
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
        assert audio.content.startswith(b"OggS") and len(audio.content) > 1000
