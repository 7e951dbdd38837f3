"""Event bus: publish and consume rates, and publish→handled latency at offered loads.

A publisher process offers events at a fixed rate (1k and 10k events/s) for a few
seconds while a consumer process (one `Subscriber`, one Redis effect per event) handles
them; latency is handled time minus the event's `occurred_at`. Redis is a private
redis-server on a free port. Results: bench/results/bus.json and bus.md.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import summary_ms, write
from services.bus.events import MoodObserved
from services.bus.streams import Publisher, Received, Subscriber
from services.redis_runtime import EmbeddedRedis, connect
from services.settings.sections import BusSettings

BUS = BusSettings(block_ms=20, batch=256, maxlen=2_000_000)


def event() -> MoodObserved:
    return MoodObserved(
        frame_id="bench", camera="cot", child="Mia", mood="sleep",
        probabilities={"sleep": 0.97, "happy": 0.01, "upset": 0.01, "feed": 0.01},
        model_version="bench",
    )


def publish(url: str, rate: float, count: int) -> None:
    """Offer `count` events at `rate` per second (as close as one process can)."""
    publisher = Publisher(connect(url), BUS)
    start = time.perf_counter()
    for sent in range(count):
        due = start + sent / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        publisher.publish(event())


def consume(url: str, count: int, group: str, results: Any) -> None:
    client = connect(url)
    latencies: list[float] = []

    def handler(received: Received) -> None:
        received.effects.incr("bench:effects")
        latencies.append((datetime.now(UTC) - received.event.occurred_at).total_seconds())

    subscriber = Subscriber(client, BUS, group, "bench", handler)
    started = time.perf_counter()
    while len(latencies) < count:
        subscriber.poll()
    results.put((latencies, time.perf_counter() - started))


def offered_load(url: str, rate: float, seconds: float) -> dict[str, Any]:
    count = int(rate * seconds)
    group = f"load-{int(rate)}"
    connect(url).xgroup_create(BUS.stream, group, id="$", mkstream=True)
    queue: Any = mp.Queue()
    consumer = mp.Process(target=consume, args=(url, count, group, queue))
    consumer.start()
    started = time.perf_counter()
    publish(url, rate, count)
    published_s = time.perf_counter() - started
    latencies, consume_s = queue.get()
    consumer.join()
    return {
        "offered_per_s": rate,
        "events": count,
        "published_per_s": round(count / published_s),
        "handled_per_s": round(count / consume_s),
        "latency": summary_ms(latencies),
    }


def max_rates(url: str, count: int = 20_000) -> dict[str, float]:
    client = connect(url)
    publisher = Publisher(client, BUS)
    started = time.perf_counter()
    for _ in range(count):
        publisher.publish(event())
    publish_rate = count / (time.perf_counter() - started)
    done = [0]

    def handler(received: Received) -> None:
        received.effects.incr("bench:effects")
        done[0] += 1

    subscriber = Subscriber(client, BUS, "max", "bench", handler)
    client.xgroup_setid(BUS.stream, "max", id="0")
    started = time.perf_counter()
    while done[0] < count:
        subscriber.poll()
    return {
        "publish_per_s": round(publish_rate),
        "consume_per_s": round(count / (time.perf_counter() - started)),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder)) as server:
        rates = max_rates(server.url)
        print("max rates", rates, flush=True)
        loads = [offered_load(server.url, rate, seconds=5.0) for rate in (1_000, 10_000)]
        for load in loads:
            print(load, flush=True)
    lines = [
        "# Event bus benchmark",
        "",
        "One publisher process, one consumer process (one `Subscriber`, one Redis effect per",
        "event, committed with the handled mark and XACK), private redis-server, this machine.",
        "",
        f"- Publish, back to back: **{rates['publish_per_s']} events/s**",
        f"- Consume (handler + atomic commit), back to back: **{rates['consume_per_s']} events/s**",
        "",
        "| offered/s | published/s | handled/s | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for load in loads:
        lat = load["latency"]
        lines.append(
            f"| {load['offered_per_s']} | {load['published_per_s']} | {load['handled_per_s']} "
            f"| {lat['p50_ms']} | {lat['p99_ms']} |"
        )
    lines += ["", "Reproduce: `.venv/bin/python -m bench bus`."]
    write("bus", {"max_rates": rates, "offered_loads": loads}, "\n".join(lines))


if __name__ == "__main__":
    main()
