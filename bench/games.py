"""Games search latency over 10,000 games: filter-only and meaning search, p50/p95.

Variants of the shipped catalogue (new ids, shifted ages, swapped places) make up the
10,000; their vectors are the catalogue's own, so the model runs once per query, as in
real use. The store runs against an embedded redis-server in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import summary_ms, write
from services.games import Context, Energy, Filters, Game, Place, load_catalogue, open_store
from services.redis_runtime import EmbeddedRedis, connect
from services.settings import load_settings

QUERIES = ["hide and seek for a baby", "something quiet in the car", "splashing in the bath",
           "rolling the ball game", "a song before bed", "running around outside", "messy painting"]


def variants(catalogue: list[Game], total: int, rng: random.Random) -> list[Game]:
    games = []
    for number in range(total):
        base = catalogue[number % len(catalogue)]
        low = rng.randint(0, 36)
        games.append(base.model_copy(update={
            "id": f"{base.id}-v{number}",
            "age_months": (low, min(48, low + rng.randint(3, 24))),
            "places": rng.sample(list(Place), rng.randint(1, 2)),
        }))
    return games


def timed(action: object, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        seconds.append(time.perf_counter() - start)
    return seconds


def random_filters(rng: random.Random) -> Filters:
    return Filters(
        age_months=rng.randint(0, 48),
        place=rng.choice([None, *Place]),
        energy=rng.choice([None, *Energy]),
        no_toys=rng.random() < 0.3,
    )


def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    settings = load_settings(environment="test")
    catalogue = load_catalogue()
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder)) as server:
        client = connect(server.url)
        store = open_store(client, settings.models_dir)
        store.embedder.encode(["load the model before timing"])
        start = time.perf_counter()
        store.save(catalogue)
        encode_s = time.perf_counter() - start
        extra = variants(catalogue, args.games - len(catalogue), rng)
        by_title = {game.title: row for game, row in zip(catalogue, store.embedder.encode(
            [g.text() for g in catalogue]), strict=True)}
        store.save(extra, np.stack([by_title[game.title] for game in extra]))
        store.search("warm up")
        start = time.perf_counter()
        store.client.incr("games:version")  # a write elsewhere: the next search reloads all
        store.search("")
        reload_s = time.perf_counter() - start
        upset = Context(mood="upset")
        filters_only = timed(lambda: store.search("", random_filters(rng), upset), args.rounds)
        meaning = timed(lambda: store.search(rng.choice(QUERIES), random_filters(rng)), args.rounds)
        games = len(store.all())
        client.close()
    results = {
        "games": games,
        "encode_catalogue_s": round(encode_s, 2),
        "encode_per_game_ms": round(encode_s / len(catalogue) * 1000, 1),
        "reload_after_change_ms": round(reload_s * 1000, 1),
        "filter_only": summary_ms(filters_only),
        "meaning": summary_ms(meaning),
    }
    rows = "\n".join(
        f"| {name} | {results[key]['p50_ms']} | {results[key]['p95_ms']} |"  # type: ignore[index]
        for name, key in (("filters only", "filter_only"), ("filters + meaning (MiniLM, CPU)", "meaning"))
    )
    write("games", results, f"""# Games search over {games} games

| search | p50 ms | p95 ms |
| --- | --- | --- |
{rows}

Encoding and storing the {len(catalogue)} catalogue games: {results['encode_catalogue_s']} s
({results['encode_per_game_ms']} ms a game). First search after a
change (reload of every game and vector from Redis): {results['reload_after_change_ms']} ms.
{args.rounds} searches each, random filters (age, place, energy, no toys); meaning search
includes encoding the query with MiniLM on the CPU.
""")
    print(results)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
