"""Camera ingest with the real vision worker on CPU: frame captured → mood on the bus, and
how many cameras at 1 frame/s one worker process keeps up with before frames drop.

Everything real: a private redis-server, a `celery worker -Q vision -c 1` with the demo
mood model (MobileNetV2 backbone), and camera ingest in this process playing the demo
clip as N cameras at 1 Hz with the motion gate open (every frame goes to the worker, the
worst case). Latency is from the moment the picture was read from the camera
(FrameCaptured.captured_at) to the MoodObserved entry landing on the stream (its entry
id's timestamp). Results: bench/results/camera.json and .md.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis

from bench.common import summary_ms, write
from services.bus.events import FrameCaptured, MoodObserved, parse_event
from services.camera.demo import story_pictures, write_clip
from services.camera.ingest import Ingest
from services.redis_runtime import EmbeddedRedis, connect
from services.settings import Settings, load_settings
from services.settings.sections import CameraSource
from services.tasks import create_celery

ROOT = Path(__file__).resolve().parent.parent
CLIP_FPS = 10
SETTLE_S = 3.0  # the first seconds of a run (feeds connecting) are not counted


def start_worker(url: str, data: Path, models: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(CRADLE_REDIS__URL=url, CRADLE_DATA_DIR=str(data), CRADLE_MODELS__DIR=str(models),
               CRADLE_MODELS__DEVICE="cpu", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "vision", "-c", "1",
         "-P", "prefork", "--loglevel", "WARNING", "--without-mingle", "--without-gossip",
         "-n", "bench-vision@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def camera_clip(path: Path) -> Path:
    """The demo story at a camera's frame rate (the demo clip's 2 fps would add up to 0.5 s
    of picture age to every measurement)."""
    if not path.is_file():
        write_clip(path, [picture for _scene, picture in story_pictures()], fps=CLIP_FPS)
    return path


def events(client: redis.Redis, settings: Settings) -> list[tuple[float, Any]]:
    entries: list[Any] = client.xrange(settings.bus.stream) or []
    return [(int(entry_id.split("-")[0]) / 1000, parse_event(fields)) for entry_id, fields in entries]


def run(settings: Settings, client: redis.Redis, cameras: int, window_s: float) -> dict[str, Any]:
    """N cameras for SETTLE_S + window_s; counts and latencies inside the window."""
    client.delete(settings.bus.stream)
    clip = str(camera_clip(settings.data_dir / "camera" / f"bench-{CLIP_FPS}fps.mp4"))
    sources = [CameraSource(name=f"cam{n:02d}", child=f"child{n:02d}", source=clip) for n in range(cameras)]
    celery = create_celery(settings, include=False)
    ingest = Ingest(settings, client, celery, sources).start()
    stop = threading.Event()
    loop = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    loop.start()
    time.sleep(SETTLE_S)
    before, opened = dict(ingest.dispatcher.stats), time.time()
    time.sleep(window_s)
    after, closed = dict(ingest.dispatcher.stats), time.time()
    time.sleep(3.0)  # let the last batch land
    stop.set()
    loop.join(10)
    ingest.stop()
    gc.collect()
    celery.close()
    seen = events(client, settings)
    captured = {e.frame_id: e for _at, e in seen
                if isinstance(e, FrameCaptured) and opened <= e.captured_at.timestamp() < closed}
    published = {e.frame_id: at for at, e in seen if isinstance(e, FrameCaptured)}
    moods = [(at, e.frame_id) for at, e in seen if isinstance(e, MoodObserved) and e.frame_id in captured]
    latencies = [at - captured[frame_id].captured_at.timestamp() for at, frame_id in moods]
    handoff = [at - published[frame_id] for at, frame_id in moods]
    delta = {key: after[key] - before[key] for key in after}
    return {
        "cameras": cameras, "window_s": window_s, "captured": len(captured), "analysed": len(latencies),
        "dropped": delta["dropped"], "batches": delta["batches"],
        "drop_rate": round(delta["dropped"] / max(1, len(captured)), 4),
        "mean_batch": round(delta["sent"] / max(1, delta["batches"]), 2),
        "latency": summary_ms(latencies), "published_to_mood": summary_ms(handoff),
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    models = (ROOT / "var" / "models").resolve()
    if not (models / "mood" / "demo.pt").is_file():
        sys.exit("the demo mood model is missing: run `make setup` (cradle assets fetch)")
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder) / "redis") as server:
        data = Path(folder) / "data"
        settings = load_settings(redis={"url": server.url}, data_dir=data, environment="test",
                                 camera={"sample_hz": 1.0, "motion_threshold": 0.0})
        client = connect(server.url, settings)
        worker = start_worker(server.url, data, models)
        try:
            warm = run(settings, client, 1, 5.0)  # loads the model in the worker
            print("warm-up", warm, flush=True)
            latency = run(settings, client, 1, args.seconds)
            print("latency", latency, flush=True)
            capacity = []
            for cameras in args.cameras:
                result = run(settings, client, cameras, args.window)
                print("capacity", result, flush=True)
                capacity.append(result)
                if result["drop_rate"] > 0.10:
                    break
        finally:
            worker.terminate()
            worker.wait(30)
            client.close()
    # The machine is shared: one stall drops one tick of every camera, so a row counts as
    # sustained below 1 % dropped, not at exactly none.
    sustained = max((r["cameras"] for r in capacity if r["drop_rate"] <= 0.01), default=0)
    results = {"latency": latency, "capacity": capacity, "sustained_cameras": sustained}
    write("camera", results, markdown(results, args))
    return results


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    latency, handoff = results["latency"]["latency"], results["latency"]["published_to_mood"]
    lines = [
        "# Camera ingest → mood, one CPU vision worker",
        "",
        f"The demo story at {CLIP_FPS} fps as camera(s) sampled at 1 frame/s, motion gate open",
        "(every frame analysed), a real `celery worker -Q vision -c 1` with the demo mood model",
        "on CPU, a private redis-server;",
        f"{os.cpu_count()} CPU cores shared by the worker and camera ingest.",
        "",
        f"Frame captured → MoodObserved on the bus, 1 camera, {args.seconds:.0f} s: "
        f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms (n={latency['n']}). Of that,",
        f"FrameCaptured published → MoodObserved: p50 {handoff['p50_ms']:.0f} ms, p95 "
        f"{handoff['p95_ms']:.0f} ms; the rest is the picture's age when sampled (the clip runs at",
        f"{CLIP_FPS} fps like a camera, so a picture is up to {1000 // CLIP_FPS} ms old at the 1 Hz tick) "
        "and storing the JPEG.",
        "",
        "| cameras at 1 Hz | frames | analysed | dropped | drop rate | frames per batch | p50 ms | p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results["capacity"]:
        lat = r["latency"]
        lines.append(f"| {r['cameras']} | {r['captured']} | {r['analysed']} | {r['dropped']} | "
                     f"{r['drop_rate']:.1%} | {r['mean_batch']} | {lat['p50_ms']:.0f} | "
                     f"{lat['p95_ms']:.0f} |")
    lines += [
        "",
        f"One CPU worker process sustains **{results['sustained_cameras']} cameras** at 1 frame/s "
        "(under 1 % of frames dropped; a",
        "stall of the shared machine drops one tick of every camera). Past that, each camera's stale",
        "frames are dropped and its newest is analysed: latency stays bounded while the share of",
        "frames analysed falls. Batching is what scales: one message holds every camera's frame.",
        "",
        f"Reproduce: `.venv/bin/python -m bench camera` (window {args.window:.0f} s per row).",
    ]
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="latency run length, 1 camera")
    parser.add_argument("--window", type=float, default=20.0, help="seconds counted per camera count")
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4, 8, 16, 24, 32, 40, 48, 64],
                        help="camera counts to try, in order; stops after the first that drops > 10%%")
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
