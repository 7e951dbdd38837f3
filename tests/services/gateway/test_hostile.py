"""Hostile input at the gateway: every route answers 4xx to any body, never 500, and small;
limits on bodies, headers and slow bodies hold on a real uvicorn; games, push
subscriptions and uploads are what they claim to be.

The fuzz covers every API route of the app (enumerated from app.routes, so a new route is
fuzzed without being listed here) with a signed-in parent. Parts that are absent here
answer 503 with a reason, and only on the routes listed in DOWN: Rasa (disabled in these
settings), the speech worker (none runs) and Web Push (no keys made).
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import RouteContext
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.assets import asset_path
from services.auth import Role, UserStore
from services.gateway.app import create_app
from services.gateway.probe import NotAudio, Prober
from services.gateway.validation import MAX_ECHO, excerpt, printable, unencodable
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import Settings, load_settings
from tests.conftest import ROOT, child_env, require
from tests.services.delivery.fakes import b64, browser_subscription
from tests.services.gateway import hostile
from tests.services.gateway.test_games_routes import SCARF_DANCE

SPEECH = sorted(Path("/usr/share/sounds/alsa").glob("*.wav"))
JSON = "application/json"
SMALL_ANSWER = 16 * 1024  # the most a refusal may say
# Routes that may answer 503 here because a part they need is absent, and the words the
# answer must use to say so (None: any reason).
DOWN: dict[str, str | None] = {
    "/api/chat": "rasa.enabled",
    "/api/voice": "speech recognition is unavailable",
    "/api/transcribe": "speech recognition is unavailable",
    "/api/games/{game_id}/speech": "voice is unavailable",
    "/api/push/key": "cradle push keys",
    "/ready": None,
}


Fuzzed = tuple[TestClient, dict[str, str]]  # the app, and a signed-in parent's header


def fuzz_settings(redis_url: str, data_dir: Path) -> Settings:
    return load_settings(redis={"url": redis_url}, data_dir=data_dir, environment="test",
                         rasa={"enabled": False}, speech={"timeout_s": 1.0},
                         gateway={"ready_timeout_s": 0.2})  # no worker answers /ready here


def app_routes() -> list[tuple[str, RouteContext]]:
    # Building the app opens nothing (the lifespan does): enough to list its routes.
    app = create_app(fuzz_settings("redis://127.0.0.1:1/0", Path("/nonexistent")))
    return hostile.fuzzed_routes(app.routes)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One app for the whole fuzz, on a Redis of its own (the fuzz floods it), with a
    signed-in parent."""
    folder = tmp_path_factory.mktemp("hostile")
    with EmbeddedRedis(folder / "redis", log_file=folder / "redis.log") as server:
        settings = fuzz_settings(server.url, folder / "data")
        if not (asset_path(settings.models_dir, "minilm") / "modules.json").exists():
            pytest.fail(f"MiniLM missing under {settings.models_dir}; run `cradle assets fetch`")
        client = connect(server.url)
        _user, token = UserStore(client).add("Anna", Role.parent)
        with TestClient(create_app(settings)) as gateway:
            yield gateway, {"Authorization": f"Bearer {token}"}
        gc.collect()  # Celery results unsubscribe from Redis when collected: while it is up
        client.close()


def send(gateway: TestClient, method: str, request: hostile.Hostile, auth: dict[str, str]) -> httpx.Response:
    return gateway.request(method, request.path, params=request.params, content=request.content,
                           files=request.files, headers={**request.headers, **auth})


def assert_fair(route: RouteContext, answer: httpx.Response, sent: int) -> None:
    """No 500, a 503 only where a part is absent (and saying so), refusals small and JSON."""
    status = answer.status_code
    if status == 503 and route.path in DOWN:
        reason = DOWN[route.path]
        assert reason is None or reason in answer.json()["detail"], answer.text
        return
    assert status < 500, f"{route.path}: {status} {answer.text[:500]}"
    if status >= 400:
        size = len(answer.content)
        assert size <= max(SMALL_ANSWER, sent), f"{size} bytes: {answer.text[:300]}"
        if answer.headers.get("content-type", "").startswith(JSON):
            json.loads(answer.content)  # encodable, and encoded: never a broken answer


@pytest.mark.parametrize(("method", "route"), app_routes(), ids=lambda x: x if isinstance(x, str) else x.path)
def test_no_route_answers_5xx_to_hostile_requests(
    fuzzed: Fuzzed, method: str, route: RouteContext
) -> None:
    gateway, auth = fuzzed

    @examples(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=hostile.requests(route))
    def fair(request: hostile.Hostile) -> None:
        assert_fair(route, send(gateway, method, request, auth), request.size)

    fair()


# -- The findings, one by one.

@pytest.mark.parametrize(("body", "where", "shown"), [
    ('{"text": "\\ud800"}', ["body", "text"], "\\ud800"),
    ('{"text": NaN}', ["body", "text"], "nan"),
    ('{"text": 1e999999}', ["body", "text"], "inf"),
    ('{"text": -Infinity}', ["body", "text"], "-inf"),
    ('{"text": "hi", "\\udc00": 1}', ["body", "\\udc00"], "\\udc00"),
])
def test_unencodable_json_is_422_naming_the_field(
    fuzzed: Fuzzed, body: str, where: list[str], shown: str
) -> None:
    gateway, auth = fuzzed
    answer = gateway.post("/api/chat", content=body, headers={**auth, "Content-Type": JSON})
    assert answer.status_code == 422, answer.text
    (said,) = answer.json()["detail"]
    assert said["loc"] == where and said["input"] == shown and said["type"] == "unencodable"


def test_a_lone_surrogate_in_a_game_is_422_before_the_store(fuzzed: Fuzzed) -> None:
    gateway, auth = fuzzed
    for field, value, where in (("materials", ["a ball", "\ud800"], ["body", "materials", 1]),
                                ("steps", ["Roll it.", "Catch \udfff it."], ["body", "steps", 1])):
        body = hostile.encoded({**SCARF_DANCE, field: value})
        answer = gateway.post("/api/games", content=body, headers={**auth, "Content-Type": JSON})
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == where, answer.text


def test_validation_answers_are_small_and_cut(fuzzed: Fuzzed) -> None:
    gateway, auth = fuzzed
    bad = {"title": "x" * 30_000, "minutes": "x" * 1_000, **{f"extra{i}": "\u202e" * 99 for i in range(40)}}
    answer = gateway.post("/api/games", json=bad, headers=auth)
    assert answer.status_code == 422 and len(answer.content) < SMALL_ANSWER
    detail = answer.json()["detail"]
    assert len(detail) == 21 and detail[-1]["type"] == "too_many_problems"
    title = next(d for d in detail if d["loc"] == ["body", "title"])
    assert title["input"] == "x" * MAX_ECHO + "…"


@pytest.mark.parametrize(("path", "params"), [
    ("/api/frames/abc", {"child": "Mia", "at": "9999-12-31T23:59:59Z"}),
    ("/api/frames/abc", {"child": "Mia", "at": "0001-01-01T00:00:00Z"}),
    ("/api/alerts", {"since": "0001-01-01T00:00:00+23:59"}),
    ("/api/alerts", {"until": "9999-12-31T23:59:59-23:59"}),
    ("/api/timeline", {"child": "Mia", "since": "9999-12-31T00:00:00Z", "until": "9999-12-31T23:59:59Z"}),
    ("/api/timeline/sleep", {"child": "Mia", "since": "0001-01-01T00:00:00Z"}),
])
def test_dates_out_of_bounds_are_422(
    fuzzed: Fuzzed, path: str, params: dict[str, str]
) -> None:
    gateway, auth = fuzzed
    answer = gateway.get(path, params=params, headers=auth)
    assert answer.status_code == 422 and "between the years 1970 and 2199" in answer.text, answer.text


GAME_REFUSALS = [
    ({"title": "Peek\x00aboo"}, ["body", "title"], "U+0000"),
    ({"title": "\u202eoobakeeP"}, ["body", "title"], "bidi"),
    ({"title": "Peek\u2066a\u2069boo"}, ["body", "title"], "bidi"),
    ({"materials": ["a\tball"]}, ["body", "materials", 0], "control"),
    ({"materials": ["ball"] * 21}, ["body", "materials"], "at most 20"),
    ({"materials": ["b" * 101]}, ["body", "materials", 0], "at most 100"),
    ({"steps": ["Roll it.", "x" * 501]}, ["body", "steps", 1], "at most 500"),
    ({"steps": ["Roll it.", "  \n  "]}, ["body", "steps", 1], "blank"),
    ({"safety": "s" * 1_001}, ["body", "safety"], "at most 1000"),
    ({"safety": "Careful\x1b[31m"}, ["body", "safety"], "only a newline"),
]


@pytest.mark.parametrize(("change", "where", "why"), GAME_REFUSALS)
def test_bad_games_are_refused_field_by_field(
    fuzzed: Fuzzed, change: dict[str, Any], where: list[Any], why: str
) -> None:
    gateway, auth = fuzzed
    answer = gateway.post("/api/games", json={**SCARF_DANCE, **change}, headers=auth)
    assert answer.status_code == 422, answer.text
    assert any(d["loc"] == where and why in d["msg"] for d in answer.json()["detail"]), answer.text


def test_a_huge_game_is_413_and_a_fair_one_is_saved(fuzzed: Fuzzed) -> None:
    gateway, auth = fuzzed
    huge = gateway.post("/api/games", json={**SCARF_DANCE, "safety": "s" * 1_000_000}, headers=auth)
    assert huge.status_code == 413 and len(huge.content) < 200
    many = gateway.post("/api/games", json={**SCARF_DANCE, "materials": ["ball"] * 10_000}, headers=auth)
    assert many.status_code in (413, 422) and len(many.content) < SMALL_ANSWER
    fair = {**SCARF_DANCE, "title": "Hostile test scarf dance",
            "steps": ["Put on a song.", "Wave a scarf:\nhigh, then low."]}
    saved = gateway.post("/api/games", json=fair, headers=auth)
    assert saved.status_code == 201, saved.text
    assert saved.json()["steps"][1] == "Wave a scarf:\nhigh, then low."


def _point() -> bytes:
    return base64.urlsafe_b64decode(browser_subscription("https://x.test/").keys.p256dh + "==")


PUSH_REFUSALS = [
    ({"p256dh": "not base64 at all!"}, "base64url"),
    ({"p256dh": b64(_point()[:64])}, "65 bytes"),
    ({"p256dh": b64(b"\x02" + _point()[1:33])}, "65 bytes"),
    ({"p256dh": b64(b"\x05" + _point()[1:])}, "uncompressed"),
    ({"auth": b64(os.urandom(15))}, "16 bytes"),
    ({"auth": "AAAA" * 8 + "A"}, "base64url"),
]


@pytest.mark.parametrize(("keys", "why"), PUSH_REFUSALS)
def test_push_subscriptions_with_bad_keys_are_refused(
    fuzzed: Fuzzed, keys: dict[str, str], why: str
) -> None:
    gateway, auth = fuzzed
    good = browser_subscription("https://push.example.net/send/abc").model_dump()
    bad = {**good, "keys": {**good["keys"], **keys}}
    answer = gateway.post("/api/push/subscriptions", json=bad, headers=auth)
    assert answer.status_code == 422 and why in answer.text, answer.text


@pytest.mark.parametrize("endpoint", ["http://push.example.net/send/abc", "https://", "https:///x",
                                      "ftp://push.example.net/x", "https://push.example.net/a b",
                                      "https://push.example.net/\x00", "javascript:alert(1)"])
def test_push_endpoints_must_be_https_urls(fuzzed: Fuzzed, endpoint: str) -> None:
    gateway, auth = fuzzed
    subscription = browser_subscription("https://push.example.net/send/abc").model_dump()
    bad = {**subscription, "endpoint": endpoint}
    answer = gateway.post("/api/push/subscriptions", json=bad, headers=auth)
    assert answer.status_code == 422, answer.text


def test_a_real_browser_subscription_is_saved(fuzzed: Fuzzed) -> None:
    gateway, auth = fuzzed
    subscription = browser_subscription("https://fcm.googleapis.com/fcm/send/hostile-test").model_dump()
    assert gateway.post("/api/push/subscriptions", json=subscription, headers=auth).status_code == 201


# -- Uploads are what they claim.

@pytest.mark.parametrize(("upload", "why"), [
    (json.dumps([{"id": i, "v": i / 7} for i in range(400)]).encode(), "lrc file, not a voice recording"),
    (b'{"a": [1, 2, 3]}', "not an audio file FFmpeg can read"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "png_pipe file, not a voice recording"),
    (hostile.wav(0.1), "0.10 s of pcm_s16le is too short"),
])
def test_what_is_not_a_recording_is_415_saying_what_it_is(
    fuzzed: Fuzzed, upload: bytes, why: str
) -> None:
    gateway, auth = fuzzed
    for route in ("/api/voice", "/api/transcribe"):
        answer = gateway.post(route, files={"audio": ("clip.wav", upload, "audio/wav")}, headers=auth)
        assert answer.status_code == 415 and why in answer.json()["detail"], answer.text


def test_real_speech_passes_the_probe(tmp_path: Path) -> None:
    require(bool(SPEECH), "the ALSA speech samples are missing: run `make setup`")
    opus = tmp_path / "note.webm"  # what Chrome records: webm/opus, with no duration in its header
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SPEECH[0]), "-c:a", "libopus", "-f", "webm", "pipe:1"],
                   stdout=opus.open("wb"), check=True)
    with Prober() as prober:
        for sample in [*SPEECH, opus]:
            heard = prober.probe(sample, min_seconds=0.3, max_seconds=60, timeout_s=10)
            assert heard.seconds > 0.5 and heard.codec in ("pcm_s16le", "opus"), sample
        with pytest.raises(NotAudio, match="too short"):
            prober.probe(SPEECH[0], min_seconds=30, max_seconds=60, timeout_s=10)


def test_real_speech_is_sent_on_to_the_worker(fuzzed: Fuzzed) -> None:
    """No worker runs here: a real recording passes the probe and waits for one (503)."""
    require(bool(SPEECH), "the ALSA speech samples are missing: run `make setup`")
    gateway, auth = fuzzed
    answer = gateway.post("/api/transcribe", files={"audio": ("f.wav", SPEECH[0].read_bytes(), "audio/wav")},
                          headers=auth)
    assert answer.status_code == 503 and "speech recognition is unavailable" in answer.json()["detail"]


# -- The validation helpers, over any input.

@given(hostile.JSON)
def test_unencodable_finds_what_json_dumps_cannot_encode(value: Any) -> None:
    found = unencodable(value)
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        assert found is not None
    else:
        assert found is None


@given(st.one_of(hostile.SCALAR, hostile.JSON))
def test_an_excerpt_always_encodes_and_is_short(value: Any) -> None:
    shown = excerpt(value)
    encoded = json.dumps(shown, allow_nan=False).encode("utf-8")
    assert len(encoded) <= 12 * (MAX_ECHO + 1) + 2  # a character escapes to at most 12 bytes (\\ud83d\\ude00)


@given(st.text(hostile.ANY_CHAR), st.integers(1, 100))
def test_printable_text_encodes_within_its_limit(text: str, limit: int) -> None:
    shown = printable(text, limit)
    shown.encode("utf-8")
    assert shown == text or len(shown) <= 10 * (limit + 1)


# -- Limits on a real uvicorn, started as `python -m services.gateway` starts it.

Live = tuple[int, str]  # the gateway's port, and a parent's token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """The gateway process on a free port, with a body timeout of 1 s; (port, token)."""
    folder = tmp_path_factory.mktemp("live")
    with EmbeddedRedis(folder / "redis", log_file=folder / "redis.log") as server:
        client = connect(server.url)
        _user, token = UserStore(client).add("Anna", Role.parent)
        port = free_port()
        env = child_env(server.url, folder / "data", CRADLE_GATEWAY__PORT=str(port),
                        CRADLE_GATEWAY__LIMITS__BODY_TIMEOUT_S="1", CRADLE_RASA__ENABLED="false")
        log = (folder / "gateway.log").open("wb")
        gateway = subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    break
                except httpx.HTTPError:
                    alive = gateway.poll() is None and time.monotonic() < deadline
                    assert alive, (folder / "gateway.log").read_text()
                    time.sleep(0.2)
            yield port, token
        finally:
            gateway.terminate()
            gateway.wait(20)
            log.close()
            client.close()


def test_a_32_mb_body_is_refused_before_it_is_sent(live: Live) -> None:
    port, token = live
    with hostile.connect(port) as conn:  # the headers alone: 32 MB declared, none sent
        conn.sendall(hostile.head("POST", "/api/games", [("Authorization", f"Bearer {token}"),
                                                         ("Content-Type", "application/json"),
                                                         ("Content-Length", str(32 * 1024 * 1024))]))
        answer = hostile.read_answer(conn)
    assert answer.status == 413 and len(answer.body) < 200 and answer.closed


def test_a_chunked_body_is_counted_while_it_streams(live: Live) -> None:
    port, token = live

    def body() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(32 * 16):
            yield b"x" * 65_536

    answer = httpx.post(f"http://127.0.0.1:{port}/api/games", content=body(), timeout=30,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert answer.status_code == 413 and len(answer.content) < 200


@pytest.mark.parametrize("headers", [
    [(f"X-Many-{i}", "v") for i in range(2_000)],
    [("X-Big", "v" * 1024 * 1024)],
    [(f"X-Some-{i}", "v") for i in range(150)],  # few bytes, too many
])
def test_too_many_or_too_large_headers_are_refused(live: Live, headers: list[tuple[str, str]]) -> None:
    port, _token = live
    with hostile.connect(port) as conn:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused while still sending
            conn.sendall(hostile.head("GET", "/health", headers))
        answer = hostile.read_answer(conn)
    assert answer.status in (400, 431) and answer.closed and len(answer.body) < 1024
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code < 500  # still serving


def test_a_stalled_body_is_408_and_the_connection_closed(live: Live) -> None:
    port, token = live
    with hostile.connect(port, timeout=20) as conn:
        started = time.monotonic()
        conn.sendall(hostile.head("POST", "/api/chat", [("Authorization", f"Bearer {token}"),
                                                        ("Content-Type", "application/json"),
                                                        ("Content-Length", "100")]) + b'{"text": ')
        answer = hostile.read_answer(conn, started)
    assert answer.status == 408 and answer.closed and b"did not arrive within 1 s" in answer.body
    assert answer.seconds < 15  # the 1 s body timeout, generously: never held for good
