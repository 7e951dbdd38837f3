"""The Caddyfile Cradle writes for its HTTPS front door, read back by Caddy itself
(`caddy adapt`), the names it may serve, and where `cradle up` runs it."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from services import https
from services.delivery.__main__ import build_channels
from services.delivery.apprise_urls import AppriseChannel
from services.settings import SettingsError, load_settings
from services.settings.https import served_name
from services.stack import Stack
from tests.conftest import needs, require

CADDY = shutil.which("caddy")
needs_caddy = needs(CADDY is not None, "Debian's caddy is missing: run make setup")

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
host_names = st.lists(label, min_size=1, max_size=4).map(".".join)
names = st.one_of(
    host_names,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)


def adapted(caddyfile: str) -> dict[str, Any]:
    """The JSON config Caddy makes of `caddyfile`: what it would run."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Caddyfile"
        path.write_text(caddyfile)
        done = subprocess.run([CADDY or "caddy", "adapt", "--config", str(path), "--adapter", "caddyfile"],
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


@needs_caddy
@settings(max_examples=25, deadline=None)
@given(served=st.lists(names, min_size=1, max_size=6, unique=True), port=st.integers(1, 65_535),
       folder=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
def test_caddy_reads_the_caddyfile_as_cradles_front_door(served: list[str], port: int, folder: str) -> None:
    storage = Path("/srv") / folder.replace("/", "_")
    if any(c in str(storage) for c in ('"', "\\", "{$")):
        with pytest.raises(ValueError, match="Caddy cannot be given"):
            https.caddyfile(tuple(served), port, "127.0.0.1:8080", storage)
        return
    config = adapted(https.caddyfile(tuple(served), port, "127.0.0.1:8080", storage))

    assert config["admin"] == {"disabled": True}  # two stacks on one machine never collide
    assert config["storage"] == {"module": "file_system", "root": str(storage)}
    server = config["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [f":{port}"]
    assert server["automatic_https"] == {"disable_redirects": True}  # nothing on port 80
    (route,) = server["routes"]
    assert sorted(route["match"][0]["host"]) == sorted(served_name(n) for n in served)
    (proxy,) = route["handle"][0]["routes"][0]["handle"]
    assert proxy["handler"] == "reverse_proxy" and proxy["upstreams"] == [{"dial": "127.0.0.1:8080"}]
    assert proxy["flush_interval"] == -1  # each live-feed event goes on at once
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["issuers"] == [{"module": "internal"}]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_a_name_is_served_as_a_host_name_or_an_address_or_refused(text: str) -> None:
    try:
        name = served_name(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
        return
    assert served_name(name) == name  # settled: the same name twice is the same name
    try:
        ipaddress.ip_address(name)
    except ValueError:
        assert len(name) <= 253 and all(0 < len(part) <= 63 for part in name.split("."))
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.")
    assert not any(c in name for c in " {}\"'#\n\t,")  # nothing that could end a Caddyfile token


def test_settings_refuse_names_caddy_cannot_serve() -> None:
    with pytest.raises(SettingsError, match=r"https\.names"):
        load_settings(environment="test", https={"names": ["nursery.local", "my_box"]})
    with pytest.raises(SettingsError, match="appear twice"):
        load_settings(environment="test", https={"names": ["Nursery.Local", "nursery.local."]})
    with pytest.raises(SettingsError, match=r"https\.port"):
        load_settings(environment="test", https={"port": 0})
    cleaned = load_settings(environment="test", https={"names": ["Nursery.Local.", "[fe80::1]"]})
    assert cleaned.https.names == ("nursery.local", "fe80::1")


def test_the_default_names_put_an_address_first_and_need_no_network() -> None:
    assert https.default_names("nursery", ["192.168.1.20"]) == (
        "192.168.1.20", "nursery.local", "nursery", "localhost")
    assert https.default_names("my_box.lan", []) == ("localhost",)  # no certificate can name my_box
    for address in https.lan_addresses():  # read from this machine's interfaces
        ip = ipaddress.IPv4Address(address)
        assert ip.is_private and not ip.is_loopback and not ip.is_link_local


def test_quoting_keeps_a_folder_one_token() -> None:
    assert https.quoted("/srv/the family's data") == '"/srv/the family\'s data"'
    for bad in ("/srv/a\nb", "/srv/{$HOME}", "/srv/a\\", '/srv/"a"'):
        with pytest.raises(ValueError, match="Caddy cannot be given"):
            https.quoted(bad)


@needs_caddy
def test_cradle_up_runs_caddy_after_the_gateway_with_its_data_under_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environment="test", data_dir=tmp_path, rasa={"enabled": False},
                             gateway={"port": 18080}, https={"names": ["cradle.home.arpa"], "port": 18443})
    parts = Stack(settings).plan()
    assert [p.name for p in parts][-2:] == ["gateway", "caddy"]
    caddy = parts[-1]
    caddyfile = tmp_path.resolve() / "run" / "Caddyfile"
    assert caddy.argv == [CADDY, "run", "--config", str(caddyfile), "--adapter", "caddyfile"]
    assert caddy.env["XDG_DATA_HOME"].startswith(str(tmp_path.resolve() / "caddy"))  # not ~/.local
    config = adapted(caddyfile.read_text())
    assert config["storage"]["root"] == str(tmp_path.resolve() / "caddy")
    assert config["apps"]["http"]["servers"]["srv0"]["listen"] == [":18443"]
    assert https.phone_url(settings) == "https://cradle.home.arpa:18443"

    missing = settings.model_copy(update={"https": settings.https.model_copy(update={"caddy": "/no/caddy"})})
    assert "caddy" not in [p.name for p in Stack(missing).plan()]  # the stack runs on without it
    assert "not installed" in (https.unavailable(missing) or "")
    assert https.phone_url(missing) is None


@needs_caddy
def test_apprise_messages_link_to_the_address_the_phones_use(client: redis.Redis, tmp_path: Path) -> None:
    """The web app's own pushes and live feed keep relative links (same origin, whichever
    name the phone used); a message read outside the app needs the whole address."""
    settings = load_settings(environment="test", data_dir=tmp_path, https={"names": ["cradle.home.arpa"]},
                             delivery={"apprise_urls": {"anna": ["json://127.0.0.1:9/anna"]}})
    (apprise,) = [c for c in build_channels(settings, client) if isinstance(c, AppriseChannel)]
    assert apprise.public_url == "https://cradle.home.arpa:8443"
    alone = settings.model_copy(update={"https": settings.https.model_copy(update={"enabled": False})})
    (apprise,) = [c for c in build_channels(alone, client) if isinstance(c, AppriseChannel)]
    assert apprise.public_url is None


def test_the_compose_files_caddyfile_serves_the_names_it_is_given() -> None:
    require(CADDY is not None, "Debian's caddy is missing: run make setup")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([CADDY, "adapt", "--config", str(root / "deploy" / "Caddyfile"), "--adapter",
                           "caddyfile"], capture_output=True, text=True, timeout=30,
                          env={"HTTPS_SITES": "https://192.168.1.20, https://nursery.local"})
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    server = config["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"][0]["host"] == ["192.168.1.20", "nursery.local"]
    assert config["storage"]["root"] == "/data"  # the caddy-data volume
    handlers = {h["handler"]: h for h in handlers_in(server["routes"])}
    assert "file_server" in handlers and handlers["rewrite"]["uri"] == "/root.crt"  # /ca.crt, from Caddy
    assert handlers["vars"]["root"] == "/data/pki/authorities/local"
    assert handlers["reverse_proxy"]["upstreams"] == [{"dial": "gateway:8080"}]
    assert handlers["reverse_proxy"]["flush_interval"] == -1


def handlers_in(routes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every handler of Caddy's JSON routes, subroutes included."""
    for route in routes:
        for handler in route.get("handle", []):
            yield handler
            yield from handlers_in(handler.get("routes", []))
