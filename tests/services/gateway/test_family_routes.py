"""The family routes on the real Redis: anyone signed in sees the children and the
caregivers; only a parent changes them; each refusal has its code (401, 403, 404, 409, 422)
and the change is in /api/me, and the chatbot's household, at once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from chatbot.actions.household import Household
from services.auth import Role
from services.settings import Settings
from tests.services.gateway.conftest import Auth, token

ZOE: dict[str, Any] = {"name": "Zoë", "born": "2025-03-14", "pronoun": "she", "nicknames": ["Zozo"],
                       "cameras": ["demo"]}


@pytest.fixture
def nana(client: redis.Redis) -> Auth:
    return token(client, "Nana", Role.caregiver)


def test_anyone_signed_in_sees_the_children_and_the_caregivers(gateway: TestClient, anna: Auth,
                                                                nana: Auth) -> None:
    assert gateway.get("/api/family").status_code == 401
    family = gateway.get("/api/family", headers=nana)
    assert family.status_code == 200, family.text
    assert family.json() == {
        "children": [{"id": "Baby", "name": "Baby", "nicknames": [], "pronoun": "she", "born": None,
                      "age_months": None, "cameras": ["demo"]}],
        "caregivers": [{"name": "Anna", "role": "parent"}, {"name": "Nana", "role": "caregiver"}],
        "cameras": ["demo"],
    }


def test_a_parent_adds_edits_and_removes_a_child_and_everyone_sees_it(
        gateway: TestClient, anna: Auth, settings: Settings, client: redis.Redis) -> None:
    added = gateway.post("/api/family/children", json=ZOE, headers=anna)
    assert added.status_code == 201, added.text
    zoe = added.json()
    assert (zoe["id"], zoe["name"], zoe["cameras"], zoe["nicknames"]) == ("zoe", "Zoë", ["demo"], ["Zozo"])
    assert isinstance(zoe["age_months"], int)
    me = gateway.get("/api/me", headers=anna).json()
    assert [c["name"] for c in me["children"]] == ["Baby", "Zoë"]
    household = Household(settings, client)
    assert household.child("zozo's").id == "zoe"

    edited = gateway.patch("/api/family/children/zoe", json={"name": "Zoé Anne", "nicknames": []},
                           headers=anna)
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "Zoé Anne" and edited.json()["nicknames"] == []
    assert edited.json()["born"] == "2025-03-14"  # left as it was
    assert household.child("zoe anne").spoken_name == "Zoé Anne"

    removed = gateway.delete("/api/family/children/zoe", headers=anna)
    assert removed.status_code == 200 and removed.json()["id"] == "zoe"
    assert [c["id"] for c in gateway.get("/api/family", headers=anna).json()["children"]] == ["Baby"]


def test_a_caregiver_may_look_but_not_change(gateway: TestClient, nana: Auth) -> None:
    assert gateway.post("/api/family/children", json=ZOE, headers=nana).status_code == 403
    assert gateway.patch("/api/family/children/Baby", json={"name": "Mia"}, headers=nana).status_code == 403
    assert gateway.delete("/api/family/children/Baby", headers=nana).status_code == 403
    assert gateway.post("/api/family/children", json=ZOE).status_code == 401


@pytest.mark.parametrize("body", [
    {**ZOE, "born": (date.today() + timedelta(days=1)).isoformat()},
    {**ZOE, "born": "1990-01-01"},
    {**ZOE, "born": "14/03/2025"},
    {**ZOE, "cameras": ["garage"]},
    {**ZOE, "name": ""},
    {**ZOE, "name": "x" * 61},
    {**ZOE, "name": "<script>"},
    {**ZOE, "pronoun": "it"},
    {**ZOE, "nicknames": ["n"] * 9},
    {**ZOE, "role": "parent"},
    {"name": "Zoë"},
])
def test_bad_input_is_422(gateway: TestClient, anna: Auth, body: dict[str, Any]) -> None:
    answer = gateway.post("/api/family/children", json=body, headers=anna)
    assert answer.status_code == 422, answer.text


def test_duplicates_unknown_children_and_the_last_child(gateway: TestClient, anna: Auth) -> None:
    assert gateway.post("/api/family/children", json=ZOE, headers=anna).status_code == 201
    again = gateway.post("/api/family/children", json={**ZOE, "name": "ZOE", "nicknames": []}, headers=anna)
    assert again.status_code == 409 and "already called zoe" in again.json()["detail"]
    clash = gateway.patch("/api/family/children/Baby", json={"nicknames": ["zozo"]}, headers=anna)
    assert clash.status_code == 409
    assert gateway.patch("/api/family/children/harper", json={"name": "H"}, headers=anna).status_code == 404
    assert gateway.delete("/api/family/children/harper", headers=anna).status_code == 404
    assert gateway.patch("/api/family/children/zoe", json={}, headers=anna).status_code == 422
    assert gateway.patch("/api/family/children/zoe", json={"born": None}, headers=anna).status_code == 422
    assert gateway.delete("/api/family/children/zoe", headers=anna).status_code == 200
    last = gateway.delete("/api/family/children/Baby", headers=anna)
    assert last.status_code == 409 and "only child" in last.json()["detail"]
