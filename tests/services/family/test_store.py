"""The family store on a real Redis: seeded once from the settings, every change checked
against the whole family (unique names without case or accents, configured cameras, the
last child stays), and a camera watching one child at a time."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import redis

from services.family import (
    Child,
    DuplicateName,
    FamilyError,
    FamilyStore,
    LastChild,
    UnknownCamera,
    UnknownChildError,
)
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings, load_settings

BORN = date(2025, 6, 1)


def family_settings(redis_server: EmbeddedRedis, tmp_path: Path, **family: object) -> Settings:
    return load_settings(
        redis={"url": redis_server.url}, data_dir=tmp_path, environment="test",
        family=family or {"children": [{"id": "Mia", "name": "Mia", "pronoun": "she", "born": "2025-02-03"},
                                       {"id": "cam-leo", "name": "Leo", "pronoun": "he"}]},
        camera={"cameras": [{"name": "cot", "child": "Mia", "source": "/dev/null"},
                            {"name": "crib", "child": "cam-leo", "source": "/dev/null"},
                            {"name": "hall", "child": "nobody", "source": "/dev/null"}]},
    )


@pytest.fixture
def store(redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path) -> FamilyStore:
    return FamilyStore(client, family_settings(redis_server, tmp_path))


def test_an_empty_store_is_seeded_once_from_the_settings_and_the_cameras(
        store: FamilyStore, redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path) -> None:
    assert store.children() == [
        Child(id="Mia", name="Mia", pronoun="she", born=date(2025, 2, 3), cameras=("cot",)),
        Child(id="cam-leo", name="Leo", pronoun="he", cameras=("crib",)),
    ]
    store.edit("Leo", name="Léon")
    other = load_settings(redis={"url": redis_server.url}, data_dir=tmp_path, environment="test")
    assert [c.name for c in FamilyStore(client, other).children()] == ["Mia", "Léon"]  # not seeded again


def test_the_demo_camera_binds_the_default_child(redis_server: EmbeddedRedis, client: redis.Redis,
                                                 tmp_path: Path) -> None:
    settings = load_settings(redis={"url": redis_server.url}, data_dir=tmp_path, environment="test")
    store = FamilyStore(client, settings)
    assert store.children() == [Child(id="Baby", name="Baby", pronoun="she", cameras=("demo",))]
    assert store.cameras() == ["demo"]


def test_adding_a_child_gives_an_id_from_the_name_and_keeps_the_order(store: FamilyStore) -> None:
    zoe = store.add("Zoë Anne", born=BORN, pronoun="she", nicknames=["Zozo", "zozo"])
    assert (zoe.id, zoe.name, zoe.nicknames) == ("zoe-anne", "Zoë Anne", ("Zozo",))
    again = store.add("Zoe-Anne!".rstrip("!") + " B", born=BORN)
    assert again.id == "zoe-anne-b"
    assert [c.id for c in store.children()] == ["Mia", "cam-leo", "zoe-anne", "zoe-anne-b"]
    assert store.get("ZOZO's") == zoe and store.match("zoey anne") == zoe


@pytest.mark.parametrize("name, nicknames", [("MIA", ()), ("mïa", ()), ("Léo", ()), ("Sam", ("leo",)),
                                              ("Sam", ("cam-leo",))])
def test_names_and_nicknames_are_unique_without_case_or_accents(
        store: FamilyStore, name: str, nicknames: tuple[str, ...]) -> None:
    with pytest.raises(DuplicateName, match="already called"):
        store.add(name, born=BORN, nicknames=nicknames)
    assert len(store.children()) == 2


def test_an_edit_may_not_take_another_childs_name(store: FamilyStore) -> None:
    with pytest.raises(DuplicateName):
        store.edit("Leo", nicknames=["MIA"])
    assert store.edit("Leo", nicknames=["leo", "Lion"]).nicknames == ("leo", "Lion")  # his own name again


@pytest.mark.parametrize("born, why", [
    (date.today() + timedelta(days=1), "in the future"),
    (date.today().replace(year=date.today().year - 19), "more than 18 years ago"),
])
def test_a_birth_date_is_in_the_last_18_years(store: FamilyStore, born: date, why: str) -> None:
    with pytest.raises(FamilyError, match=why):
        store.add("Sam", born=born)
    with pytest.raises(FamilyError, match=why):
        store.edit("Mia", born=born)
    assert store.get("Mia").born == date(2025, 2, 3)


@pytest.mark.parametrize("name", ["", "   ", "3mia", "Mia<script>", "x" * 61])
def test_a_name_is_a_name(store: FamilyStore, name: str) -> None:
    with pytest.raises(FamilyError, match="name"):
        store.add(name, born=BORN)


def test_a_camera_named_is_configured_and_watches_one_child(store: FamilyStore) -> None:
    with pytest.raises(UnknownCamera, match=r"no camera called garage \(the cameras: cot, crib, hall\)"):
        store.add("Sam", born=BORN, cameras=["garage"])
    sam = store.add("Sam", born=BORN, cameras=["cot", "hall"])
    assert store.camera_children() == {"crib": "cam-leo", "cot": "sam", "hall": "sam"}
    assert store.get("Mia").cameras == ()  # the cot was hers: it watches Sam now
    store.edit("Mia", cameras=["cot"])
    assert store.get(sam.id).cameras == ("hall",)


def test_the_last_child_cannot_be_removed(store: FamilyStore) -> None:
    assert store.remove("leo's").id == "cam-leo"
    with pytest.raises(LastChild, match="only child"):
        store.remove("Mia")
    assert [c.id for c in store.children()] == ["Mia"]


def test_an_unknown_child_names_the_family(store: FamilyStore) -> None:
    with pytest.raises(UnknownChildError, match=r"no child called 'Harper' \(the family has Mia, Leo\)"):
        store.edit("Harper", pronoun="they")
    with pytest.raises(UnknownChildError):
        store.remove("Harper")
    assert store.match("Harper") is None


def test_a_child_who_grew_up_is_still_read(store: FamilyStore, client: redis.Redis) -> None:
    client.hset("cradle:family:children", "cam-leo",
                '{"id": "cam-leo", "name": "Leo", "pronoun": "he", "born": "1990-01-01"}')
    assert store.get("Leo").born == date(1990, 1, 1)
