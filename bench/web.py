"""The family web app in headless Chromium (Debian's, through Playwright), on this CPU.

A private redis-server and the gateway (in this process, on a real port). Measured:
the shell's weight; sign-in-link-to-chat time with an empty cache (first visit) and with
the service worker's cache (every later visit), and whether the shell opens offline;
an alert sent on the live feed until its card is on screen; the games API, filtered and
by meaning (MiniLM); the page's JavaScript heap after the alerts.
Results: bench/results/web.json and .md.
"""

from __future__ import annotations

import gzip
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright

from bench.common import summary_ms, write
from services.alerts.state import AlertRecord, AlertStore
from services.auth import Role, UserStore
from services.bus.events import utcnow
from services.delivery.alert_feed import AlertFeed, SseChannel
from services.gateway.app import create_app
from services.gateway.shell import shell_files
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LOADS = 8
ALERTS = 20
QUERIES = 40


def _signed_in(page: Page, url: str) -> float:
    """A full page load of `url` until the chat screen shows the signed-in user."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("#view-chat:not([hidden]) h1")
    page.locator("#who", has_text="Anna").wait_for()
    return time.perf_counter() - started


def _alert(client: Any, user: str) -> AlertRecord:
    record = AlertRecord(id=uuid.uuid4().hex, child="Baby", kind="upset", severity="warning",
                         reason="Baby has been crying for 3 minutes", raised_at=utcnow(), state="raised",
                         recipients=["*"])
    with client.pipeline(transaction=True) as pipe:
        AlertStore(client).create(record, pipe)
        pipe.execute()
    SseChannel(AlertFeed(client)).send(record, user)
    return record


def _api(http: httpx.Client, path: str, times: int) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        http.get(path).raise_for_status()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cradle-bench-web-") as scratch, \
            EmbeddedRedis(Path(scratch) / "redis") as redis_server:
        settings = load_settings(environment="test", data_dir=Path(scratch) / "data",
                                 redis={"url": redis_server.url}, models={"dir": ROOT / "var" / "models"},
                                 rasa={"enabled": False})
        client = connect(redis_server.url)
        _user, token = UserStore(client).add("Anna", Role.parent)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            results = _measure(base, token, client)
        finally:
            server.should_exit = True
            client.close()
    _report(results)


def _measure(base: str, token: str, client: Any) -> dict[str, Any]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        files = {url: http.get(url).content for url in shell_files()}
        raw = sum(len(body) for body in files.values())
        gz = sum(len(gzip.compress(body, 6)) for body in files.values())
        started = time.perf_counter()
        http.get("/api/games", params={"limit": 1}).raise_for_status()  # imports the catalogue
        first_games = time.perf_counter() - started
        filtered = _api(http, "/api/games?place=car&energy=calm&no_toys=true&age_months=12", QUERIES)
        meaning = _api(http, "/api/games?q=a%20quiet%20game%20with%20no%20toys&age_months=10", QUERIES)

    link = f"{base}/#token={token}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        cold = []
        for _ in range(LOADS):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            cold.append(_signed_in(context.new_page(), link))
            context.close()
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        _signed_in(page, link)
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # installed, shell cached
        page.reload()
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
        warm = [_signed_in(page, f"{base}/?visit={n}#/chat") for n in range(LOADS)]  # a new document each
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#view-chat:not([hidden]) h1")
        offline_shell = page.locator("#chat-title").is_visible()
        context.set_offline(False)

        page.goto(f"{base}/#/alerts")
        page.locator('#connection[data-state="live"]').wait_for()
        shown = []
        for _ in range(ALERTS):
            sent = time.perf_counter()
            record = _alert(client, "anna")
            page.wait_for_selector(f'li[data-id="{record.id}"]')
            shown.append(time.perf_counter() - sent)
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
        browser.close()
    return {
        "shell": {"files": len(files), "bytes": raw, "gzip_bytes": gz},
        "first_visit_to_chat": summary_ms(cold),
        "cached_visit_to_chat": summary_ms(warm),
        "offline_shell_opens": offline_shell,
        "alert_sent_to_card_on_screen": summary_ms(shown),
        "js_heap_bytes_after_alerts": heap,
        "games_first_request_s": round(first_games, 2),
        "games_filtered": summary_ms(filtered),
        "games_by_meaning": summary_ms(meaning),
    }


def _report(r: dict[str, Any]) -> None:
    row = lambda name, s: f"| {name} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['n']} |"  # noqa: E731
    heap = r["js_heap_bytes_after_alerts"]
    markdown = f"""# The web app in headless Chromium

`.venv/bin/python -m bench web` — Debian's chromium through Playwright, a phone-sized
viewport, the gateway and a private Redis on this machine (no Rasa: chat replies are
measured in `chatbot.md`).

Shell: {r['shell']['files']} files, {r['shell']['bytes'] / 1024:.0f} KiB
({r['shell']['gzip_bytes'] / 1024:.0f} KiB gzipped), no build step.
Opens offline from the service worker's cache: {"yes" if r['offline_shell_opens'] else "NO"}.

| what | p50 ms | p95 ms | n |
| --- | ---: | ---: | ---: |
{row("sign-in link to the chat screen, first visit (empty cache)", r['first_visit_to_chat'])}
{row("the app opened again (service worker cache)", r['cached_visit_to_chat'])}
{row("alert sent on the live feed to its card on screen", r['alert_sent_to_card_on_screen'])}
{row("GET /api/games, filtered (car, calm, no toys, 12 months)", r['games_filtered'])}
{row("GET /api/games by meaning (MiniLM)", r['games_by_meaning'])}

The first games request imports and encodes the catalogue: {r['games_first_request_s']} s.
JavaScript heap after {ALERTS} alerts: {(heap or 0) / 1e6:.1f} MB.
"""
    path = write("web", r, markdown)
    print(markdown)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
