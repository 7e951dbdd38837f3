"""The gateway's route tests share an in-process app on the session's Redis and a
signed-in parent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from services.auth import Role, UserStore
from services.gateway.app import create_app
from services.settings import Settings

Auth = dict[str, str]


@pytest.fixture
def gateway(settings: Settings, client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def token(client: redis.Redis, name: str, role: Role = Role.parent) -> Auth:
    """A new user's bearer header."""
    _user, secret = UserStore(client).add(name, role)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def anna(client: redis.Redis) -> Auth:
    return token(client, "Anna")
