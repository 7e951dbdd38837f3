"""Voice through the gateway and a real speech worker (Whisper tiny.en, Piper voice)."""

from __future__ import annotations

import io
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.auth import Role, UserStore
from services.gateway.app import create_app
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings
from tests.conftest import ROOT, require

MODELS = ROOT / "var" / "models"
SAMPLE = Path("/usr/share/sounds/alsa/Front_Center.wav")
WORKER_ENV = {
    "CRADLE_MODELS__DIR": str(MODELS),
    "CRADLE_SPEECH__MODEL": "tiny.en",
    "CRADLE_SPEECH__THREADS": "2",
    "CRADLE_SPEECH__INITIAL_PROMPT": "Front, rear, side, center, left, right.",
    "CRADLE_SPEECH__MAX_SECONDS": "10",
}


@pytest.fixture
def voice(
    redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> Iterator[tuple[TestClient, dict[str, str], subprocess.Popen[bytes]]]:
    require((MODELS / "whisper" / "tiny.en-ct2" / "model.bin").is_file() and SAMPLE.is_file(),
            "Whisper tiny.en or the ALSA samples are missing: run `make setup`")
    worker = start_worker("speech", **WORKER_ENV)
    settings = load_settings(
        redis={"url": redis_server.url}, data_dir=tmp_path / "data", environment="test",
        speech={"max_bytes": 2_000_000, "timeout_s": 120}, rasa={"enabled": False},
    )
    _user, token = UserStore(client).add("Anna", Role.parent)
    with TestClient(create_app(settings)) as gateway:
        yield gateway, {"Authorization": f"Bearer {token}"}, worker


def upload(data: bytes, name: str = "clip.wav") -> dict[str, tuple[str, bytes, str]]:
    return {"audio": (name, data, "application/octet-stream")}


def silence(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(b"\0\0" * int(16_000 * seconds))
    return buffer.getvalue()


Voice = tuple[TestClient, dict[str, str], subprocess.Popen[bytes]]


def test_voice_round_trip_and_bad_uploads(voice: Voice) -> None:
    gateway, auth, worker = voice
    heard = gateway.post("/api/transcribe", files=upload(SAMPLE.read_bytes()), headers=auth)
    assert heard.status_code == 200, heard.text
    body = heard.json()
    assert "front center" in body["transcript"].lower().replace(",", "")
    assert body["backend"] == "faster" and body["duration_s"] == pytest.approx(1.5, abs=0.5)
    assert set(body["timings_ms"]) == {"upload", "asr", "worker_decode", "worker_recognise"}
    assert body["timings_ms"]["asr"] >= body["timings_ms"]["worker_recognise"]

    asked = gateway.post("/api/voice", files=upload(SAMPLE.read_bytes()), headers=auth).json()
    assert "front center" in asked["transcript"].lower().replace(",", "")
    assert asked["reply_text"] is None  # no chatbot in this stack: words only

    quiet = gateway.post("/api/voice", files=upload(silence(2.0)), headers=auth)
    assert quiet.status_code == 200
    assert quiet.json()["transcript"] == ""
    assert quiet.json()["reply_text"] == "I didn't hear anything."
    spoken = gateway.get(quiet.json()["reply_audio_url"], headers=auth)
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/ogg"
    assert spoken.content.startswith(b"OggS") and len(spoken.content) > 1000

    garbage = b"RIFF\x10\x00\x00\x00WAVEfmt garbage"
    corrupt = gateway.post("/api/transcribe", files=upload(garbage), headers=auth)
    assert corrupt.status_code in (400, 415), corrupt.text
    too_big = gateway.post("/api/transcribe", files=upload(b"\0" * 2_000_001), headers=auth)
    assert too_big.status_code == 413
    too_long = gateway.post("/api/transcribe", files=upload(silence(12.0)), headers=auth)
    assert too_long.status_code == 413 and "10" in too_long.json()["detail"]
    empty = gateway.post("/api/transcribe", files=upload(b""), headers=auth)
    assert empty.status_code == 400

    # after all that, the worker still serves
    again = gateway.post("/api/transcribe", files=upload(SAMPLE.read_bytes()), headers=auth)
    assert again.status_code == 200 and worker.poll() is None
    assert gateway.post("/api/transcribe", files=upload(SAMPLE.read_bytes())).status_code == 401


def test_spoken_replies_are_served_only_by_name(voice: Voice) -> None:
    gateway, auth, _worker = voice
    assert gateway.get("/api/voice/replies/..%2f..%2fetc%2fpasswd", headers=auth).status_code == 404
    assert gateway.get("/api/voice/replies/" + "a" * 64 + ".ogg", headers=auth).status_code == 404
