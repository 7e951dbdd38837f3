"""Voice round trip through the real stack: gateway → Redis → speech worker → reply spoken.

A 5 s webm/opus question (the Piper voice reading nursery sentences, encoded by ffmpeg)
is posted to `POST /api/voice` over HTTP to a real uvicorn gateway, with a real Celery
speech worker (faster backend, beam 1) behind it, for tiny.en and base. Stages, as the
gateway reports them: upload, asr (queue + worker decode + recognise), worker_decode,
worker_recognise and chatbot (not enabled here, so the gateway speaks no reply); the
spoken reply (tts) is then asked of the same worker directly, a new sentence each time
so the cache never answers, and `total` adds it. Results: bench/results/voice.json, .md.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, start, wait_for_gateway, write
from bench.speech import speech_clip, wav_bytes
from models.speech import Speaker, make_engine
from services.auth import Role, UserStore
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import load_settings
from services.tasks import SPEAK, create_celery

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
REQUESTS = 12


def webm_question(folder: Path) -> bytes:
    clip = speech_clip(Speaker(make_engine("piper", MODELS)), 5.0)
    (folder / "q.wav").write_bytes(wav_bytes(clip))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(folder / "q.wav"), "-c:a", "libopus",
         "-b:a", "32k", str(folder / "q.webm")],
        check=True,
    )
    return (folder / "q.webm").read_bytes()


def run_model(model: str, question: bytes, folder: Path) -> dict[str, Any]:
    with EmbeddedRedis(folder / f"redis-{model}") as server:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
        env.update(
            CRADLE_REDIS__URL=server.url, CRADLE_DATA_DIR=str(folder / f"data-{model}"),
            CRADLE_MODELS__DIR=str(MODELS), CRADLE_SPEECH__MODEL=model, CRADLE_SPEECH__THREADS="2",
            CRADLE_GATEWAY__PORT=str(port), CRADLE_GATEWAY__LOG_LEVEL="warning", PYTHONPATH=str(ROOT),
            CRADLE_RASA__ENABLED="false",  # the chatbot's latency is bench/chatbot.py's
        )
        _user, token = UserStore(connect(server.url)).add("Bench", Role.parent)
        worker = start(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "speech",
             "-c", "1", "--loglevel", "WARNING", "-n", f"bench-{model}@%h"],
            env, folder / f"worker-{model}.log",
        )
        gateway = start([sys.executable, "-m", "services.gateway"], env, folder / f"gateway-{model}.log")
        try:
            url = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {token}"}
            wait_for_gateway(url)
            rounds: list[dict[str, float]] = []
            celery = create_celery(load_settings(redis={"url": server.url}), include=False)
            with httpx.Client(base_url=url, headers=auth, timeout=120) as http:
                for index in range(REQUESTS + 2):  # the first two load the models
                    started = time.perf_counter()
                    answer = http.post("/api/voice", files={"audio": ("q.webm", question, "audio/webm")})
                    answer.raise_for_status()
                    spoken = time.perf_counter()
                    reply = f"Here is reply number {index} about a calm game for Mia."
                    celery.send_task(SPEAK, args=[reply]).get(timeout=120)
                    tts = (time.perf_counter() - spoken) * 1000
                    total = (time.perf_counter() - started) * 1000
                    if index >= 2:
                        rounds.append({**answer.json()["timings_ms"], "tts": tts, "total": total})
            gc.collect()
            celery.close()
        finally:
            for process in (gateway, worker):
                process.terminate()
                process.wait(30)
    stages = sorted({stage for r in rounds for stage in r})
    return {
        "model": model,
        "requests": len(rounds),
        "stages_ms": {
            stage: {
                "p50": round(percentile([r.get(stage, 0.0) for r in rounds], 50), 1),
                "p95": round(percentile([r.get(stage, 0.0) for r in rounds], 95), 1),
            }
            for stage in stages
        },
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cradle-bench-voice-") as scratch:
        folder = Path(scratch)
        question = webm_question(folder)
        runs = [run_model(model, question, folder) for model in ("tiny.en", "base")]
    for run in runs:
        print(run, flush=True)
    order = ["total", "upload", "asr", "worker_decode", "worker_recognise", "chatbot", "tts"]
    lines = [
        "# Voice round trip through the stack",
        "",
        "`POST /api/voice` with a 5 s webm/opus question, real uvicorn gateway, real Celery",
        "speech worker (faster-whisper int8, beam 1, 2 threads), private redis-server, this",
        "2-core machine. Chatbot not enabled (its stage is ~0 here); the spoken reply (Piper,",
        "cache cold) is asked of the same worker right after. `total` is measured by the",
        "client (HTTP, upload, ASR, TTS); `asr` is queue + decode + recognise.",
        "p50 / p95 in ms over " + str(REQUESTS) + " requests after 2 warm-up requests.",
        "",
        "| stage | " + " | ".join(run["model"] for run in runs) + " |",
        "| --- | " + " | ".join("---" for _ in runs) + " |",
    ]
    for stage in order:
        cells = []
        for run in runs:
            figure = run["stages_ms"].get(stage)
            cells.append(f"{figure['p50']} / {figure['p95']}" if figure else "-")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "Goal: a 5 s request answered, spoken reply included, under 1.5 s (faster backend).",
              "", "Reproduce: `.venv/bin/python -m bench voice`."]
    write("voice", {"runs": runs}, "\n".join(lines))


if __name__ == "__main__":
    main()
