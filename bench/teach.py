"""Teach benchmark: how many labels a family must give before Cradle knows its nursery.

    .venv/bin/python -m bench teach [--threads 2] [--sizes 10 25 50 100]

A simulated family: a room style the demo models never saw (models/scenes.py "papered":
wallpaper, a wooden floor, a warm wide lens), twelve rooms over six days. Two days are
kept aside, as the labels store would; from the other four, `n` labelled pictures per
mood (and the scenes of the same pictures, plus `n` of the empty cot) train a mood
classifier and a captioner with its scene head, the way a training run does
(models/teach.py, the `teach` settings' defaults but augmentation, timed separately).
Each is scored as the family would see it: moods right only from familiar frames,
hazards raised only from frames the captioner knows. One full retraining with the
default settings (augmentation on) is timed at the largest size. Results go to
bench/results/teach.json, .md and .png.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from bench.common import RESULTS, write
from models.caption.safety import DEFAULT_RULES, load_rules
from models.scenes import TAGS_OF, synthesize
from models.teach import TaughtFrame, TeachConfig, score_mood, score_scenes, train_caption, train_mood
from services.settings.sections import DEFAULT_TAGS

HELD_OUT_DAYS = {"day0", "day3"}


def family(folder: Path, images: int, seed: int) -> list[TaughtFrame]:
    captions = synthesize(folder, images=images, sessions=12, size=176, seed=seed, style="papered")
    rows = {row["image"]: row for row in csv.DictReader(captions.open())}
    return [TaughtFrame(folder / image, row["mood"] or None, TAGS_OF[row["scene"]],
                        f"day{int(row['session'].removeprefix('room')) // 2}",
                        datetime.fromisoformat(row["captured_at"])) for image, row in rows.items()]


def sample(pool: list[TaughtFrame], per_class: int, seed: int) -> list[TaughtFrame]:
    """`per_class` frames of each mood, and as many of the empty cot (which has none)."""
    by_class: dict[str, list[TaughtFrame]] = defaultdict(list)
    for frame in pool:
        by_class[frame.mood or "empty"].append(frame)
    rng = random.Random(seed)
    chosen = []
    for frames in by_class.values():
        chosen += rng.sample(frames, min(per_class, len(frames)))
    return chosen


def one_size(train: list[TaughtFrame], held: list[TaughtFrame], config: TeachConfig, work: Path,
             models_dir: Path) -> dict[str, Any]:
    tags, phrases = [t.name for t in DEFAULT_TAGS], {t.name: t.phrases for t in DEFAULT_TAGS}
    started = time.perf_counter()
    mood, _ = train_mood(train, work / "mood", config, models_dir)
    mood_s = time.perf_counter() - started
    started = time.perf_counter()
    caption, _ = train_caption(train, tags, phrases, work / "caption", config, models_dir)
    caption_s = time.perf_counter() - started
    moods = score_mood(mood, held, models_dir)
    scenes = score_scenes(caption, held, load_rules(DEFAULT_RULES), models_dir)
    return {"labelled": len(train), "mood_accuracy": moods.metrics["accuracy"],
            "mood_familiar": moods.familiar, "recall_by_mood": moods.metrics["recall"],
            "hazard_recall": scenes.metrics["hazard_recall"],
            "hazard_precision": scenes.metrics["hazard_precision"], "scene_familiar": scenes.familiar,
            "train_s": round(mood_s + caption_s, 1), "mood_train_s": round(mood_s, 1),
            "caption_train_s": round(caption_s, 1)}


def main(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    models_dir = args.models_dir
    fast = TeachConfig(augment=False, device="cpu")
    with tempfile.TemporaryDirectory(prefix="cradle-bench-teach-") as scratch:
        work = Path(scratch)
        frames = family(work / "family", args.images, seed=11)
        held = [f for f in frames if f.session in HELD_OUT_DAYS]
        pool = [f for f in frames if f.session not in HELD_OUT_DAYS]
        demo = {"mood": score_mood(models_dir / "mood" / "demo.pt", held, models_dir),
                "caption": score_scenes(models_dir / "caption" / "demo.pt", held, load_rules(DEFAULT_RULES),
                                        models_dir)}
        rows = []
        for n in args.sizes:
            row = one_size(sample(pool, n, seed=n), held, fast, work / f"n{n}", models_dir)
            rows.append({"per_class": n, **row})
            print(f"{n} per class: moods {row['mood_accuracy']:.0%}, hazards {row['hazard_recall']:.0%}",
                  flush=True)
        largest = sample(pool, max(args.sizes), seed=max(args.sizes))
        full = one_size(largest, held, replace(fast, augment=True), work / "full", models_dir)
    results = {"rows": rows, "full_run": {"per_class": max(args.sizes), **full},
               "demo": {"mood_accuracy": demo["mood"].metrics["accuracy"],
                        "mood_familiar": demo["mood"].familiar,
                        "hazard_recall": demo["caption"].metrics["hazard_recall"],
                        "scene_familiar": demo["caption"].familiar},
               "held_out_frames": len(held), "threads": args.threads}
    plot(rows, RESULTS / "teach.png")
    write("teach", results, markdown(results))
    return results


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["per_class"] for r in rows]
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(sizes, [r["mood_accuracy"] for r in rows], "o-", label="moods right (served)")
    axes.plot(sizes, [r["hazard_recall"] for r in rows], "s-", label="hazards found")
    axes.plot(sizes, [r["hazard_precision"] for r in rows], "^--", label="hazards that were real")
    axes.set_xscale("log")
    axes.set_xticks(sizes, [str(s) for s in sizes])
    axes.set_xlabel("labelled pictures per mood")
    axes.set_ylabel("on the kept-aside days")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def markdown(r: dict[str, Any]) -> str:
    demo, full = r["demo"], r["full_run"]
    lines = [
        "# Teaching Cradle a family's nursery",
        "",
        f"`.venv/bin/python -m bench teach`, {r['threads']} CPU threads, one run. A simulated family "
        "(models/scenes.py `papered`: a room style the demo models never saw), twelve rooms over six days; "
        f"two days ({r['held_out_frames']} pictures) kept aside and scored as the family sees it (a mood "
        "counts only from a familiar frame, a hazard only from a frame the captioner knows).",
        "",
        f"Before teaching, the demo models: moods right {demo['mood_accuracy']:.0%} (familiar "
        f"{demo['mood_familiar']:.0%}), hazards found {demo['hazard_recall']:.0%} (familiar "
        f"{demo['scene_familiar']:.0%}).",
        "",
        "| labelled per mood | pictures | moods right | familiar | hazards found | hazards real "
        "| training (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[f"| {x['per_class']} | {x['labelled']} | {x['mood_accuracy']:.0%} | {x['mood_familiar']:.0%} | "
          f"{x['hazard_recall']:.0%} | {x['hazard_precision']:.0%} | {x['train_s']} |" for x in r["rows"]],
        "",
        "![accuracy and hazard recall against labels](teach.png)",
        "",
        f"One retraining with the default settings (augmentation on, the mood backbone unfrozen for 4 "
        f"epochs) on {full['labelled']} pictures: **{full['train_s']} s** on {r['threads']} CPU threads "
        f"(mood {full['mood_train_s']} s, captioner {full['caption_train_s']} s); moods right "
        f"{full['mood_accuracy']:.0%}, hazards found {full['hazard_recall']:.0%}. No GPU was lent for "
        "this run.",
    ]
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("python -m bench teach", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--images", type=int, default=1800, help="pictures the simulated family has")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 25, 50, 100])
    parser.add_argument("--threads", type=int, default=2)
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
