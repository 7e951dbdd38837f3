"""The games repository against a real Redis and the real MiniLM embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.games.embedder import Embedder
from services.games.model import CATALOGUE_DIR, Energy, GameError, Place, Skill, load_catalogue
from services.games.parse import game_from_text
from services.games.ranking import Context, Filters
from services.games.store import NEAR_DUPLICATE, DuplicateGame, GameStore, Hit, title_key

CATALOGUE = load_catalogue()


@pytest.fixture
def store(client: redis.Redis, embedder: Embedder) -> GameStore:
    games = GameStore(client, embedder)
    games.import_catalogue()
    return games


def ids(hits: list[Hit]) -> list[str]:
    return [hit.game.id for hit in hits]


def test_catalogue_has_150_valid_games_with_unique_ids() -> None:
    assert len(CATALOGUE) >= 150
    assert len({game.id for game in CATALOGUE}) == len(CATALOGUE)
    assert {p for game in CATALOGUE for p in game.places} == set(Place)


def test_import_is_idempotent(store: GameStore) -> None:
    store.import_catalogue()
    assert len(store.all()) == len(CATALOGUE)


filters_strategy = st.builds(
    Filters,
    age_months=st.none() | st.integers(0, 48),
    place=st.none() | st.sampled_from(list(Place)),
    energy=st.none() | st.sampled_from(list(Energy)),
    no_toys=st.booleans(),
    skill=st.none() | st.sampled_from(list(Skill)),
)
queries = st.sampled_from(["", "something quiet", "splashing water", "a song in the car", "running"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=filters_strategy, query=queries)
def test_every_result_passes_every_filter(store: GameStore, filters: Filters, query: str) -> None:
    hits = store.search(query, filters, limit=200)
    for hit in hits:
        low, high = hit.game.age_months
        assert filters.age_months is None or low <= filters.age_months <= high
        assert filters.place is None or filters.place in hit.game.places
        assert filters.energy is None or hit.game.energy == filters.energy
        assert not (filters.no_toys and hit.game.materials)
        assert filters.skill is None or filters.skill in hit.game.skills
    # and none is left out, so an empty answer cannot pass on its own
    assert len(hits) == min(200, sum(filters.allows(game) for game in CATALOGUE))


def test_never_a_bath_game_in_the_car(store: GameStore) -> None:
    hits = store.search("splashing in the water", Filters(place=Place.car, age_months=30), limit=50)
    assert hits and all(Place.car in h.game.places for h in hits)
    assert all(h.game.age_months[0] <= 30 <= h.game.age_months[1] for h in hits)


def test_hide_and_seek_for_a_baby_finds_peekaboo(store: GameStore) -> None:
    assert "peekaboo" in ids(store.search("hide and seek for a baby", limit=3))


def test_saved_game_found_again_by_voice_like_phrasing(store: GameStore) -> None:
    game = store.add("um a game where you roll a ball back and forth with the baby", added_by="Anna")
    assert store.get(game.id).added_by == "Anna"
    assert game.id in ids(store.search("rolling the ball game", limit=3))


def test_a_second_game_with_the_same_title_keeps_the_first(store: GameStore) -> None:
    first = store.add("clap and sing with teddy", added_by="Anna")
    with pytest.raises(DuplicateGame) as again:
        store.add("Clap and sing with Teddy!", added_by="Ben")
    assert again.value.existing == first and store.get(first.id).added_by == "Anna"
    assert not any(g.id.startswith("clap-and-sing-with-teddy-") for g in store.all())


@pytest.mark.parametrize("told", [
    "add a game called the sock puppet game: you hold a sock on your hand and make it talk",  # the title
    "add a game called talking sock: put a sock on your hand and make it talk",  # the same steps
])
def test_a_game_told_again_is_not_saved_twice(store: GameStore, told: str) -> None:
    first = store.add("add a game called sock puppets: put a sock on your hand and make it talk", "Anna")
    count = len(store.all())
    with pytest.raises(DuplicateGame, match="'Sock puppets' is already saved") as again:
        store.add(told, added_by="Ben")
    assert again.value.existing.id == first.id and len(store.all()) == count
    assert store.duplicate_of(game_from_text(told, "Ben")) == first


def test_a_catalogue_game_told_again_is_that_game(store: GameStore) -> None:
    with pytest.raises(DuplicateGame) as again:
        store.add("a new game, peek a boo, you hide your face and say boo", added_by="Anna")
    assert again.value.existing.id == "peekaboo"


@pytest.mark.parametrize(("a", "b"), [("The Sock-Puppet game", "sock puppets"), ("Peekaboo", "peek a boo"),
                                      ("Bubble chase", "a bubbles chase")])
def test_titles_compared_as_said(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


def test_different_games_are_both_saved(store: GameStore) -> None:
    """No two distinct games of the catalogue are near-duplicates of each other."""
    for told in ("add a game called sock puppets: put a sock on your hand and make it talk",
                 "add a game called tower topple: stack the cups high and knock them down",
                 "add a game called kitchen drums: bang a pan with a wooden spoon"):
        store.add(told, added_by="Anna")
    matrix = store.embedder.encode([g.text() for g in CATALOGUE])
    closeness = matrix @ matrix.T - 2 * np.eye(len(CATALOGUE))
    assert float(closeness.max()) < NEAR_DUPLICATE


def test_a_liked_game_moves_up(store: GameStore) -> None:
    before = ids(store.search("a quiet game with a song", limit=10))
    liked = before[3]
    store.rate(liked, "Anna", liked=True)
    assert store.rate(liked, "Ben", liked=True) == 2
    after = ids(store.search("a quiet game with a song", limit=10))
    assert after.index(liked) < before.index(liked)


def test_voting_twice_replaces_the_vote(store: GameStore) -> None:
    store.rate("peekaboo", "Anna", liked=True)
    assert store.rate("peekaboo", "Anna", liked=False) == -1


@pytest.mark.parametrize("context", [Context(mood="upset"), Context(mood="happy", minutes_since_nap=200)])
def test_context_prefers_calm_games_when_upset_or_tired(store: GameStore, context: Context) -> None:
    rested_child = Context(mood="happy", minutes_since_nap=30)
    rested = store.search("a fun game", Filters(age_months=24), rested_child, limit=10)
    tired = store.search("a fun game", Filters(age_months=24), context, limit=10)
    calm = [sum(h.game.energy == Energy.calm for h in hits) for hits in (rested, tired)]
    assert calm[1] > calm[0]
    assert all(h.game.energy == Energy.calm for h in tired[:5])


def test_a_damaged_stored_game_is_left_out_and_searches_go_on(store: GameStore, client: redis.Redis) -> None:
    """A game saved before today's bounds (a 1 MB safety text) no longer validates: it is
    kept in Redis and named when read, but every other game is still found."""
    raw = client.get("games:game:peekaboo")
    assert raw is not None
    damaged = str(raw).replace('"safety":', '"safety":"' + "x" * 1_000_000 + '","old_safety":', 1)
    client.set("games:game:peekaboo", damaged)
    client.incr("games:version")
    with pytest.raises(GameError, match="damaged"):
        store.get("peekaboo")
    found = ids(store.search("hide and seek for a baby", limit=5))
    assert found and "peekaboo" not in found


def test_unknown_game_id_says_so(store: GameStore) -> None:
    with pytest.raises(GameError, match="no game with id 'nope'"):
        store.get("nope")
    with pytest.raises(GameError, match="no game"):
        store.rate("nope", "Anna", liked=True)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("- title: [unclosed\n")
    with pytest.raises(GameError, match=r"broken\.yaml: not valid YAML"):
        load_catalogue(tmp_path)


def test_bad_entry_names_file_game_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "- title: Moon dance\n  age_months: [40, 60]\n  places: [space]\n  energy: calm\n"
        "  minutes: 5\n  skills: [motor]\n  steps: [one, two]\n  safety: Watch closely.\n"
    )
    with pytest.raises(GameError) as error:
        load_catalogue(tmp_path)
    message = str(error.value)
    assert "bad.yaml, game 1 ('Moon dance')" in message
    assert "places.0" in message and "age_months" in message


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    entry = (
        "- title: Peekaboo\n  age_months: [4, 24]\n  places: [indoor]\n  energy: calm\n"
        "  minutes: 5\n  skills: [social]\n  steps: [Hide., Show.]\n  safety: Watch closely.\n"
    )
    (tmp_path / "a.yaml").write_text(entry)
    (tmp_path / "b.yaml").write_text(entry)
    with pytest.raises(GameError, match=r"b\.yaml: game id 'peekaboo' is also in a\.yaml"):
        load_catalogue(tmp_path)


def test_the_catalogue_is_imported_once_and_again_only_when_it_changes(
    client: redis.Redis, embedder: Embedder, tmp_path: Path
) -> None:
    games = GameStore(client, embedder)
    assert games.ensure_catalogue() == len(CATALOGUE)
    saved = games.add("a game where you roll a ball to the baby", added_by="Anna")
    assert games.ensure_catalogue() == 0  # unchanged: nothing re-imported
    folder = tmp_path / "catalogue"
    folder.mkdir()
    source = sorted(Path(CATALOGUE_DIR).glob("*.yaml"))[0]
    (folder / source.name).write_text(source.read_text() + "\n# a new release\n")
    assert games.ensure_catalogue(folder) > 0  # a new catalogue is imported ...
    assert games.get(saved.id).added_by == "Anna"  # ... and the family's own games stay
