"""Frame captured → alert visible on the SSE feed, through the real stack on this CPU.

Processes: a private redis-server, a Celery vision worker (demo mood + caption models,
one shared backbone pass), the alerts engine, the delivery consumer and the gateway.
A client listens on `GET /api/alerts/stream`. Each trial writes two frames of a baby
crawling near the stairs (the hazard rule wants two frames) for a new child (so no
cooldown applies) and sends them to the vision queue as the camera does; latency runs
from the moment the second frame is stored to the alert's arrival on the SSE stream.
Results: bench/results/alert_latency.json and .md.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import summary_ms, wait_for_gateway, write
from models.scenes import make_room, render_scene
from services.auth import Role, UserStore
from services.bus.events import FrameCaptured
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import load_settings
from services.tasks import ANALYSE_FRAMES, create_celery

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
TRIALS = 15


def listen(url: str, token: str, arrivals: dict[str, float], stop: threading.Event) -> None:
    """Record when each alert's first SSE event arrives, by child."""
    try:
        with httpx.Client(timeout=None) as http, http.stream(
            "GET", url + "/api/alerts/stream", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("data:"):
                    child = json.loads(line[5:]).get("child")
                    if child and child not in arrivals:
                        arrivals[child] = time.perf_counter()
    except httpx.HTTPError:
        if not stop.is_set():  # the gateway going away at the end is expected
            raise


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cradle-bench-alerts-") as scratch:
        folder = Path(scratch)
        data = folder / "data"
        frames_dir = data / "frames" / "cot"
        frames_dir.mkdir(parents=True)
        room = make_room("nursery", datetime(2026, 1, 1, tzinfo=UTC), random.Random(7))
        scenes = [render_scene("crawling", 176, room, random.Random(seed)) for seed in (0, 1)]
        with EmbeddedRedis(folder / "redis") as server:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
            env.update(
                CRADLE_REDIS__URL=server.url, CRADLE_DATA_DIR=str(data), CRADLE_MODELS__DIR=str(MODELS),
                CRADLE_GATEWAY__PORT=str(port), CRADLE_GATEWAY__LOG_LEVEL="warning",
                CRADLE_CELERY__VISION_CONCURRENCY="1",  # as its -c 1: one process on every core
                PYTHONPATH=str(ROOT),
            )
            _user, token = UserStore(connect(server.url)).add("Anna", Role.parent)
            argvs = {
                "vision": [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                           "-Q", "vision", "-c", "1", "--loglevel", "WARNING", "-n", "bench-vision@%h"],
                "alerts": [sys.executable, "-m", "services.alerts"],
                "delivery": [sys.executable, "-m", "services.delivery"],
                "gateway": [sys.executable, "-m", "services.gateway"],
            }
            processes = [
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=(folder / f"{name}.log").open("wb"),
                                 stderr=subprocess.STDOUT)
                for name, argv in argvs.items()
            ]
            url = f"http://127.0.0.1:{port}"
            celery = create_celery(load_settings(redis={"url": server.url}), include=False)
            arrivals: dict[str, float] = {}
            stop = threading.Event()
            try:
                wait_for_gateway(url)
                threading.Thread(target=listen, args=(url, token, arrivals, stop), daemon=True).start()
                latencies, missed = [], 0
                for trial in range(TRIALS + 1):  # trial 0 loads the models
                    child = f"child{trial}"
                    batch, stored = [], 0.0
                    for index, scene in enumerate(scenes):
                        frame_id = uuid.uuid4().hex
                        scene.save(frames_dir / f"{frame_id}.jpg")
                        stored = time.perf_counter()
                        batch.append(FrameCaptured(
                            frame_id=frame_id, camera="cot", child=child, path=f"cot/{frame_id}.jpg",
                            captured_at=datetime.now(UTC),
                        ).model_dump(mode="json"))
                        celery.send_task(ANALYSE_FRAMES, args=[batch[index:]])
                    deadline = time.monotonic() + 60
                    while child not in arrivals and time.monotonic() < deadline:
                        time.sleep(0.005)
                    if trial and child in arrivals:
                        latencies.append(arrivals[child] - stored)
                    elif trial:
                        missed += 1
            finally:
                stop.set()
                celery.close()
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(30)
    figure = summary_ms(latencies)
    result = {"trials": TRIALS, "missed": missed, "frame_to_sse": figure}
    print(result, flush=True)
    lines = [
        "# Frame captured → alert on the SSE feed",
        "",
        "Real processes on this 2-core CPU: redis-server, Celery vision worker (demo mood +",
        "caption models, one shared backbone pass), alerts engine, delivery consumer,",
        "gateway; a client on `GET /api/alerts/stream`. Each trial stores two frames of a",
        "baby crawling near the stairs for a new child and sends each to the vision queue;",
        "latency is from storing the second frame to the urgent alert arriving over SSE.",
        "",
        f"- trials: {TRIALS}, alerts missed: {missed}",
        f"- p50 **{figure['p50_ms']} ms**, p95 **{figure['p95_ms']} ms**, mean {figure['mean_ms']} ms",
        "",
        "Reproduce: `.venv/bin/python -m bench alert_latency` (after `make setup`).",
    ]
    write("alert_latency", result, "\n".join(lines))


if __name__ == "__main__":
    main()
