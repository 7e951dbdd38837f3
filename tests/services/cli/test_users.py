"""`cradle users add` / `token`: the sign-in link and QR code the family's phones open."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from services.auth import UserStore
from services.cli.main import app
from services.cli.users import qr_code, qr_text, sign_in_link
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings
from tests.conftest import needs

LINK = re.compile(r"^(\S+)/#token=(cr_[\w-]+)$", re.MULTILINE)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, redis_server: EmbeddedRedis, tmp_path: Path,
            client: redis.Redis) -> redis.Redis:
    monkeypatch.setenv("CRADLE_REDIS__URL", redis_server.url)
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRADLE_DELIVERY__PUBLIC_URL", "https://cradle.family.example:8443/")
    return client


def test_add_prints_a_link_that_signs_in_and_its_qr_code(cli_env: redis.Redis) -> None:
    result = CliRunner().invoke(app, ["users", "add", "Anna", "--role", "parent"], terminal_width=200)
    assert result.exit_code == 0, result.output
    base, token = LINK.search(result.output).groups()  # type: ignore[union-attr]
    assert base == "https://cradle.family.example:8443"
    user = UserStore(cli_env).verify(token)
    assert user is not None and user.name == "Anna"
    assert qr_text(f"{base}/#token={token}").strip() in result.output  # the QR code of that very link


def test_a_second_token_gets_its_own_link_without_a_qr_code_on_request(cli_env: redis.Redis) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["users", "add", "Ben", "--no-qr"], terminal_width=200)
    second = runner.invoke(app, ["users", "token", "ben", "--no-qr"], terminal_width=200)
    assert first.exit_code == second.exit_code == 0, second.output
    tokens = [LINK.search(out.output).group(2) for out in (first, second)]  # type: ignore[union-attr]
    assert tokens[0] != tokens[1]
    assert all(UserStore(cli_env).verify(t) is not None for t in tokens)
    assert "█" not in second.output and "▀" not in second.output
    unknown = runner.invoke(app, ["users", "token", "nobody"])
    assert unknown.exit_code == 1 and "no user named" in unknown.output


def test_without_a_public_url_or_https_the_link_names_the_gateway() -> None:
    settings = load_settings(environment="test", gateway={"host": "192.168.1.20", "port": 8080},
                             https={"enabled": False})
    assert sign_in_link(settings, "cr_x") == "http://192.168.1.20:8080/#token=cr_x"
    anywhere = load_settings(environment="test", gateway={"host": "0.0.0.0", "port": 9000},
                             https={"enabled": False})
    assert re.fullmatch(r"http://[^/:]+:9000/#token=cr_x", sign_in_link(anywhere, "cr_x"))
    assert "0.0.0.0" not in sign_in_link(anywhere, "cr_x")


@needs(shutil.which("caddy") is not None, "Debian's caddy is missing: run make setup")
def test_with_https_on_the_link_names_the_front_doors_first_name() -> None:
    front = {"names": ["Cradle.Home.Arpa.", "192.168.1.20"], "port": 8443}
    settings = load_settings(environment="test", https=front)
    assert sign_in_link(settings, "cr_x") == "https://cradle.home.arpa:8443/#token=cr_x"
    on_443 = load_settings(environment="test", https={**front, "port": 443})
    assert sign_in_link(on_443, "cr_x") == "https://cradle.home.arpa/#token=cr_x"
    public = load_settings(environment="test", https=front, delivery={"public_url": "https://cradle.example/"})
    assert sign_in_link(public, "cr_x") == "https://cradle.example/#token=cr_x"  # the family's own proxy
    no_caddy = load_settings(environment="test", https={**front, "caddy": "/nonexistent/caddy"},
                             gateway={"host": "192.168.1.20"})
    assert sign_in_link(no_caddy, "cr_x") == "http://192.168.1.20:8080/#token=cr_x"


# print_ascii(invert=True): a character holds a module and the one below it.
HALF_BLOCKS = {"█": (False, False), "▄": (True, False), "▀": (False, True), "\xa0": (True, True)}


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=10,
               max_size=60))
def test_the_qr_code_text_reads_back_as_the_links_modules(token: str) -> None:
    link = f"https://cradle.example/#token=cr_{token}"
    matrix = qr_code(link).get_matrix()
    rows = [row for row in qr_text(link).split("\n") if row]
    read: list[list[bool]] = [[] for _ in range(2 * len(rows))]
    for line, row in enumerate(rows):
        for char in row:
            top, bottom = HALF_BLOCKS[char]
            read[2 * line].append(top)
            read[2 * line + 1].append(bottom)
    assert read[: len(matrix)] == [list(r) for r in matrix]
    assert all(all(r) for r in read[len(matrix):])  # an odd count: the last half line is blank
