"""The gateway serves the web app: the shell, its files, the service worker and the manifest."""

from __future__ import annotations

import json
import re

import redis
from fastapi.testclient import TestClient

from services.auth import Role, UserStore
from services.gateway.shell import WEB, shell_files, shell_version


def test_the_shell_needs_no_token_and_locks_down_what_it_may_load(gateway: TestClient) -> None:
    page = gateway.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-cache"
    # every script, style and icon the page names is served; the certificate link is Caddy's
    # to fill (test_https serves it, and its 404 before Caddy has run)
    named = re.findall(r'(?:src|href)="(/[^"#]+)"', page.text)
    assert any(u.endswith(".js") for u in named) and any(u.endswith(".css") for u in named), named
    for url in named:
        if url != "/ca.crt":
            assert gateway.get(url).status_code == 200, url


def test_the_service_worker_caches_every_shell_file_under_the_current_version(gateway: TestClient) -> None:
    worker = gateway.get("/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    assert worker.headers["service-worker-allowed"] == "/"
    assert f'const VERSION = "{shell_version()}";' in worker.text
    files = json.loads(re.search(r"const FILES = (\[.*\]);", worker.text).group(1))  # type: ignore[union-attr]
    assert files == list(shell_files()) and "/" in files and "/static/js/app.js" in files
    for url in files:
        assert gateway.get(url).status_code == 200, url
    on_disk = {p.relative_to(WEB).as_posix() for p in WEB.rglob("*") if p.is_file()}
    assert {f"/static/{name}" for name in on_disk} - set(files) == {
        "/static/index.html", "/static/sw.js", "/static/manifest.webmanifest"}


def test_the_manifest_makes_an_installable_app(gateway: TestClient) -> None:
    answer = gateway.get("/manifest.webmanifest")
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert gateway.get(icon["src"]).status_code == 200, icon["src"]


def test_the_api_still_wants_a_token_and_unknown_files_are_404(gateway: TestClient) -> None:
    assert gateway.get("/api/me").status_code == 401
    assert gateway.get("/static/nothing.js").status_code == 404
    assert gateway.get("/static/../app.py").status_code == 404


def test_me_names_the_familys_children_for_the_app(gateway: TestClient, client: redis.Redis) -> None:
    _user, token = UserStore(client).add("Anna", Role.parent)
    me = gateway.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == "Anna" and me["role"] == "parent"
    assert me["children"] == [{"id": "Baby", "name": "Baby", "pronoun": "she", "born": None}]
