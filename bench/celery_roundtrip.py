"""Celery: no-op task (`workers.health.ping`) round trip p50/p99 and throughput, one worker.

The worker is a real `celery worker` process (prefork, concurrency 1, then 2) on a
private redis-server. Round trip: send, wait for the result, one at a time. Throughput:
send a burst, wait for all. Results: bench/results/celery_roundtrip.json and .md.
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

from bench.common import summary_ms, write
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings
from services.tasks import PING, create_celery

ROOT = Path(__file__).resolve().parent.parent


def start_worker(url: str, concurrency: int, data: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(CRADLE_REDIS__URL=url, CRADLE_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "default",
            "-c", str(concurrency), "-P", "prefork", "--loglevel", "WARNING",
            "--without-mingle", "--without-gossip", "-n", f"bench{concurrency}@%h",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def measure(url: str, concurrency: int, data: Path) -> dict[str, Any]:
    celery = create_celery(load_settings(redis={"url": url}), include=False)
    worker = start_worker(url, concurrency, data)
    try:
        celery.send_task(PING).get(timeout=120)  # warm: the pool is up
        for _ in range(20):
            celery.send_task(PING).get(timeout=30)
        round_trips = []
        for _ in range(500):
            started = time.perf_counter()
            celery.send_task(PING).get(timeout=30)
            round_trips.append(time.perf_counter() - started)
        burst = 2_000
        started = time.perf_counter()
        results = [celery.send_task(PING) for _ in range(burst)]
        for result in results:
            result.get(timeout=120)
        elapsed = time.perf_counter() - started
        del results, result  # results unsubscribe on deletion: do it while Redis is up
        gc.collect()
    finally:
        worker.terminate()
        worker.wait(30)
        celery.close()
    return {
        "concurrency": concurrency,
        "round_trip": summary_ms(round_trips),
        "throughput_per_s": round(burst / elapsed, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder) / "redis") as server:
        runs = [measure(server.url, concurrency, Path(folder)) for concurrency in (1, 2)]
    for run in runs:
        print(run, flush=True)
    lines = [
        "# Celery no-op round trip",
        "",
        "`workers.health.ping` through a real worker (prefork) and a private redis-server,",
        "late acks and prefetch 1 as configured for Cradle. 500 sequential round trips,",
        "then a burst of 2,000 tasks.",
        "",
        "| worker processes | p50 ms | p99 ms | throughput tasks/s |",
        "| --- | --- | --- | --- |",
    ]
    for run in runs:
        trip = run["round_trip"]
        lines.append(
            f"| {run['concurrency']} | {trip['p50_ms']} | {trip['p99_ms']} | {run['throughput_per_s']} |"
        )
    lines += ["", "Reproduce: `.venv/bin/python -m bench celery_roundtrip`."]
    write("celery_roundtrip", {"runs": runs}, "\n".join(lines))


if __name__ == "__main__":
    main()
