"""Event bus: consumer-group throughput and publish→committed latency, beside raw redis-py.

`measure(url, rate, seconds)` runs, against the Redis at `url`, on streams of its own:

- back to back: a stream filled beforehand is drained by one batched `Subscriber` (parse,
  one Redis effect, the exactly-once commit) and by the raw anchor, redis-py alone doing
  the same reads and acknowledgements (XREADGROUP and XACK, same batch, no parsing, no
  effects);
- offered load: a publisher process offers `rate` events/s for `seconds` (pipelined XADDs
  every millisecond: `time.sleep` cannot pace 100 µs apart) while `consumers` consumer
  processes handle them, once as Subscribers and once as the raw anchor. Latency is the
  time the event's read was committed (acknowledged) minus its `occurred_at`.

`python -m bench bus` runs it on a private redis-server at 1k and 10k events/s, and the
event-by-event commit back to back for comparison. Results: bench/results/bus.json, bus.md.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from bench.common import summary_ms, write
from services.bus.events import MoodObserved
from services.bus.streams import Received, Subscriber, write_event
from services.redis_runtime import EmbeddedRedis, connect
from services.settings.sections import BusSettings

BUS = BusSettings(block_ms=20, batch=256, maxlen=2_000_000, done_ttl_s=300)
TICK_S = 0.001  # the publisher sends what is due once a millisecond
BACK_TO_BACK = 50_000  # events drained back to back


def event() -> MoodObserved:
    return MoodObserved(
        frame_id="bench", camera="cot", child="Mia", mood="sleep",
        probabilities={"sleep": 0.97, "happy": 0.01, "upset": 0.01, "feed": 0.01},
        model_version="bench",
    )


def fill(client: redis.Redis, bus: BusSettings, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for sent in range(1, count + 1):
        write_event(pipe, bus, event())
        if sent % 1_000 == 0 or sent == count:
            pipe.execute()


def publish(url: str, bus: BusSettings, rate: float, count: int, started: Any) -> None:
    """Offer `count` events at `rate` per second: each millisecond, those due by then, in
    one pipelined round trip. `started` receives the wall-clock start."""
    client = connect(url)
    pipe = client.pipeline(transaction=False)
    start = time.perf_counter()
    started.value = time.time()
    sent = tick = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - start) * rate) + 1)
        for _ in range(due - sent):
            write_event(pipe, bus, event())
        pipe.execute()
        sent = due
        tick += 1
        pause = start + tick * TICK_S - time.perf_counter()
        if pause > 0:
            time.sleep(pause)


class BusConsumer:
    """A batched Subscriber with one Redis effect per event; each event's latency is taken
    once its read is committed."""

    def __init__(self, client: redis.Redis, bus: BusSettings, group: str, name: str) -> None:
        self.occurred: list[datetime] = []
        self.taken: list[float] = []
        self.subscriber = Subscriber(client, bus, group, name, self.handle, batched=True)
        self.effect = f"{bus.stream}:effects"

    def handle(self, received: Received) -> None:
        received.effects.incr(self.effect)
        self.occurred.append(received.event.occurred_at)

    def round(self) -> int:
        self.subscriber.poll()
        now = datetime.now(UTC)
        self.taken += [(now - at).total_seconds() for at in self.occurred]
        handled = len(self.occurred)
        self.occurred.clear()
        return handled

    def latencies(self) -> list[float]:
        return self.taken


class RawConsumer:
    """redis-py alone: XREADGROUP, XACK. It keeps the bodies and the time of each commit,
    and works the latencies out after the run, so a round parses nothing."""

    def __init__(self, client: redis.Redis, bus: BusSettings, group: str, name: str) -> None:
        self.client, self.bus, self.group, self.name = client, bus, group, name
        self.kept: list[tuple[float, list[str]]] = []

    def round(self) -> int:
        reply: Any = self.client.xreadgroup(self.group, self.name, {self.bus.stream: ">"},
                                            count=self.bus.batch, block=self.bus.block_ms)
        handled = 0
        for _stream, entries in reply or []:
            self.client.xack(self.bus.stream, self.group, *[entry_id for entry_id, _fields in entries])
            self.kept.append((time.time(), [fields["event"] for _entry_id, fields in entries]))
            handled += len(entries)
        return handled

    def latencies(self) -> list[float]:
        return [at - datetime.fromisoformat(json.loads(body)["occurred_at"]).timestamp()
                for at, bodies in self.kept for body in bodies]


CONSUMERS: dict[str, type[BusConsumer | RawConsumer]] = {"bus": BusConsumer, "raw": RawConsumer}


def consume(url: str, bus: BusSettings, kind: str, group: str, name: str, count: int,
            done: Any, results: Any) -> None:
    """Run a consumer of `kind` until the group has handled `count` events in all; put its
    latencies and the wall-clock time of its last commit on `results`."""
    consumer = CONSUMERS[kind](connect(url), bus, group, name)
    last = time.time()
    while done.value < count:
        handled = consumer.round()
        if handled:
            last = time.time()
            with done.get_lock():
                done.value += handled
    results.put((consumer.latencies(), last))


def drain_rate(url: str, bus: BusSettings, kind: str, count: int) -> float:
    """Events/s one consumer of `kind` drains from a stream filled beforehand."""
    client = connect(url)
    stream = bus.model_copy(update={"stream": f"{bus.stream}:{kind}-max"})
    fill(client, stream, count)
    client.xgroup_create(stream.stream, "max", id="0")
    consumer = CONSUMERS[kind](client, stream, "max", "max")
    handled = 0
    started = time.perf_counter()
    while handled < count:
        handled += consumer.round()
    rate = count / (time.perf_counter() - started)
    client.delete(stream.stream)
    return rate


def offered_load(url: str, bus: BusSettings, kind: str, rate: float, seconds: float,
                 consumers: int) -> dict[str, Any]:
    count = int(rate * seconds)
    stream = bus.model_copy(update={"stream": f"{bus.stream}:{kind}-{int(rate)}"})
    group = "load"
    connect(url).xgroup_create(stream.stream, group, id="$", mkstream=True)
    done, started = mp.Value("l", 0), mp.Value("d", 0.0)
    results: Any = mp.Queue()
    processes = [mp.Process(target=consume, args=(url, stream, kind, group, f"c{i}", count, done, results))
                 for i in range(consumers)]
    for process in processes:
        process.start()
    publisher = mp.Process(target=publish, args=(url, stream, rate, count, started))
    publisher.start()
    publisher.join()
    published_s = time.time() - started.value
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    connect(url).delete(stream.stream)
    latencies = [s for lat, _last in outcomes for s in lat]
    finished = max(last for _lat, last in outcomes)
    return {
        "published_per_s": round(count / published_s),
        "handled_per_s": round(count / (finished - started.value)),
        "latency": summary_ms(latencies),
    }


def measure(url: str, rate: int, seconds: float, consumers: int = 1) -> dict[str, Any]:
    """The bus's figures against the Redis at `url`, each beside the raw redis-py anchor
    measured in this call (streams and keys of its own, removed after; marks expire)."""
    # Marks outlive the run only by a minute: on a stack's Redis they go soon after.
    bus = BUS.model_copy(update={"stream": f"bench:bus:{secrets.token_hex(4)}",
                                 "done_ttl_s": int(seconds) + 60})
    load_before = os.getloadavg()[0]
    bus_max, raw_max = (drain_rate(url, bus, kind, BACK_TO_BACK) for kind in ("bus", "raw"))
    loads = {kind: offered_load(url, bus, kind, rate, seconds, consumers) for kind in ("bus", "raw")}
    connect(url).delete(f"{bus.stream}:bus-max:effects", f"{bus.stream}:bus-{int(rate)}:effects")
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "consumers": consumers,
        "batch": bus.batch,
        # Runnable processes on the machine, ours included: the CPUs are shared.
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "back_to_back_per_s": {"bus": round(bus_max), "raw": round(raw_max),
                               "ratio": round(bus_max / raw_max, 3)},
        "offered_load": {**loads, "handled_ratio": round(
            loads["bus"]["handled_per_s"] / loads["raw"]["handled_per_s"], 3)},
    }


def event_by_event_rate(url: str, count: int = 20_000) -> float:
    """Back-to-back rate of the event-by-event commit (a `Subscriber` not batched)."""
    client = connect(url)
    bus = BUS.model_copy(update={"stream": f"bench:bus:{secrets.token_hex(4)}:single"})
    fill(client, bus, count)
    handled = [0]

    def handler(received: Received) -> None:
        received.effects.incr(f"{bus.stream}:effects")
        handled[0] += 1

    subscriber = Subscriber(client, bus, "max", "max", handler)
    started = time.perf_counter()
    while handled[0] < count:
        subscriber.poll()
    rate = count / (time.perf_counter() - started)
    client.delete(bus.stream, f"{bus.stream}:effects")
    return rate


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder)) as server:
        single = event_by_event_rate(server.url)
        runs = [measure(server.url, rate, seconds=5.0) for rate in (1_000, 10_000)]
        runs.append(measure(server.url, 10_000, seconds=5.0, consumers=2))
    for run in runs:
        print(run, flush=True)
    lines = [
        "# Event bus benchmark",
        "",
        "Private redis-server, this machine. **bus**: batched `Subscriber`s (parse, one Redis",
        "effect per event, committed exactly once with its handled mark and XACK in one EXEC",
        "per read). **raw**: redis-py alone, XREADGROUP + XACK with the same batch, no parsing,",
        "no effects. Both in the same run. Latency: read committed minus `occurred_at`.",
        "",
        f"- Event-by-event commit (not batched), back to back: **{round(single)} events/s**; "
        f"batched, first row: **{runs[0]['back_to_back_per_s']['bus']} events/s** "
        f"({runs[0]['back_to_back_per_s']['bus'] / single:.1f}x)",
        "- The CPUs are shared: the last column is the machine's load average (runnable",
        "  processes, ours included) around each row; the raw anchor suffers it as much.",
        "",
        "| offered/s | consumers | back to back bus/raw (ratio) | handled/s bus/raw (ratio) "
        "| bus p50 / p99 ms | raw p50 / p99 ms | load avg before / after |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        b2b, load = run["back_to_back_per_s"], run["offered_load"]
        bus, raw = load["bus"], load["raw"]
        lines.append(
            f"| {run['offered_per_s']} | {run['consumers']} "
            f"| {b2b['bus']} / {b2b['raw']} ({b2b['ratio']}) "
            f"| {bus['handled_per_s']} / {raw['handled_per_s']} ({load['handled_ratio']}) "
            f"| {bus['latency']['p50_ms']} / {bus['latency']['p99_ms']} "
            f"| {raw['latency']['p50_ms']} / {raw['latency']['p99_ms']} "
            f"| {' / '.join(map(str, run['load_average_1min']))} |"
        )
    lines += ["", "Reproduce: `flock /tmp/cradle-bench.lock .venv/bin/python -m bench bus`."]
    write("bus", {"event_by_event_per_s": round(single), "runs": runs}, "\n".join(lines))


if __name__ == "__main__":
    main()
