"""Caption benchmark: captions per second on CPU, and what captioning adds to mood.

    .venv/bin/python -m bench.caption [--models-dir var/models] [--repeats 5] [--threads 2]

1. Captions/s from normalised 160 px frames (backbone + decoder) and from feature maps
   (decoder alone), greedy against beam 3, batch 1 against batch 16, with the demo
   captioner (built first if missing).
2. Per-frame cost of mood + caption for a batch of 16 frames: mood alone; both sharing
   one backbone pass (the vision worker's path when `Captioner.shares_backbone`); both
   with a backbone pass each. The mood model is the demo one (or an untrained head on the
   same ImageNet MobileNetV2: the head is a linear layer, its weights do not change time).

Frames are synthetic nursery scenes; captions/s is the batch size over the median time
(robust to other work on a shared machine). Results go to bench/results/caption.json and .md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from bench.common import summary_ms, write
from models.caption.demo import build_demo, demo_path
from models.caption.serve import Captioner
from models.mood.config import MoodConfig
from models.mood.demo import demo_path as mood_demo_path
from models.mood.model import MoodNet, build_model
from models.mood.model import load_model as load_mood
from models.scenes import SCENES, make_room, render_scene


def _frames(count: int, size: int) -> list[Any]:
    rng = random.Random(0)
    room = make_room("bench", datetime(2026, 1, 5, 10), rng)
    return [render_scene(SCENES[i % len(SCENES)], size + 16, room, rng) for i in range(count)]


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(3):  # warm-up: allocator, caches, CPU clocks
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def _mood_model(models_dir: Path) -> tuple[MoodNet, str]:
    path = mood_demo_path(models_dir)
    if path.is_file():
        return load_mood(path, "cpu", weights_dir=models_dir), "mood demo checkpoint"
    config = MoodConfig(image_size=160)
    return build_model(config, weights_dir=models_dir).eval(), "untrained mood head"


@torch.inference_mode()
def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    models_dir = Path(args.models_dir)
    if not demo_path(models_dir).is_file():
        print("building the demo captioner first (a few minutes)", flush=True)
        build_demo(models_dir)
    greedy = Captioner(demo_path(models_dir), "cpu", weights_dir=models_dir, beam_size=1)
    beam = Captioner(demo_path(models_dir), "cpu", weights_dir=models_dir, beam_size=3)
    images = torch.stack([greedy.transform(f) for f in _frames(16, greedy.image_size)])  # (16,3,S,S)

    feature_map = greedy.model.backbone(images)  # (16,C,h,w): decoder-only timings start here
    throughput: dict[str, Any] = {}
    for name, captioner in (("greedy", greedy), ("beam3", beam)):
        for batch in (1, 16):
            repeats = args.repeats * (4 if batch == 1 else 1)
            whole = _time(lambda c=captioner, x=images[:batch]: c.describe_images(x), repeats)  # type: ignore[misc]
            decoder = _time(lambda c=captioner, f=feature_map[:batch]: c.describe_features(f),  # type: ignore[misc]
                            repeats)
            throughput[f"{name}_batch{batch}"] = {
                **summary_ms(whole), "captions_per_s": round(batch / statistics.median(whole), 1),
                "decoder_p50_ms": summary_ms(decoder)["p50_ms"],
                "decoder_captions_per_s": round(batch / statistics.median(decoder), 1)}

    mood, mood_source = _mood_model(models_dir)
    shared_ok = beam.shares_backbone(mood.backbone, mood.config.image_size)

    def mood_only() -> None:
        mood(images).softmax(dim=1)

    def shared_pass() -> None:
        feature_map = mood.backbone(images)  # (16,C,h,w) once
        mood.head(mood.pool(feature_map).flatten(1)).softmax(dim=1)
        beam.describe_features(feature_map)

    def two_passes() -> None:
        mood(images).softmax(dim=1)
        beam.describe_images(images)

    combined = {name: summary_ms([t / 16 for t in _time(fn, args.repeats)])
                for name, fn in (("mood_only", mood_only), ("mood_and_caption_shared", shared_pass),
                                 ("mood_and_caption_two_passes", two_passes))}
    base = combined["mood_only"]["p50_ms"]
    ratios = {
        "beam3_over_greedy_batch16": round(throughput["greedy_batch16"]["captions_per_s"]
                                           / throughput["beam3_batch16"]["captions_per_s"], 2),
        "beam3_over_greedy_decoder_batch16": round(
            throughput["greedy_batch16"]["decoder_captions_per_s"]
            / throughput["beam3_batch16"]["decoder_captions_per_s"], 2),
        "batch16_over_batch1_greedy": round(throughput["greedy_batch16"]["captions_per_s"]
                                            / throughput["greedy_batch1"]["captions_per_s"], 2),
        "batch16_over_batch1_beam3": round(throughput["beam3_batch16"]["captions_per_s"]
                                           / throughput["beam3_batch1"]["captions_per_s"], 2),
        "shared_over_mood_only": round(combined["mood_and_caption_shared"]["p50_ms"] / base, 2),
        "two_passes_over_mood_only": round(combined["mood_and_caption_two_passes"]["p50_ms"] / base, 2),
        "two_passes_over_shared": round(combined["mood_and_caption_two_passes"]["p50_ms"]
                                        / combined["mood_and_caption_shared"]["p50_ms"], 2),
    }
    results = {"threads": args.threads, "image_size": greedy.image_size, "caption_model": greedy.version,
               "mood_model": mood_source, "backbone_shared": shared_ok, "throughput": throughput,
               "per_frame_batch16_beam3": combined, "ratios": ratios}
    lines = [
        "# Caption benchmark", "",
        f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
        f"{args.threads} threads, {greedy.image_size} px synthetic frames, demo captioner "
        f"`{greedy.version}`, {mood_source}; mood and caption share the backbone: {shared_ok}.", "",
        "Backbone + decoder from normalised frames, and the decoder alone from feature maps:", "",
        "| decoding | batch | captions/s | p50 ms/batch | decoder captions/s | decoder p50 ms/batch |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {k.split('_')[0]} | {k.split('batch')[1]} | {v['captions_per_s']} | {v['p50_ms']} | "
          f"{v['decoder_captions_per_s']} | {v['decoder_p50_ms']} |" for k, v in throughput.items()), "",
        "Mood + caption (beam 3), 16 frames per batch, ms per frame:", "",
        "| path | p50 ms/frame | p95 ms/frame |", "| --- | --- | --- |",
        *(f"| {k} | {v['p50_ms']} | {v['p95_ms']} |" for k, v in combined.items()), "",
        "Ratios:", "", *(f"- {k}: {v}" for k, v in ratios.items()),
    ]
    path = write("caption", results, "\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {path}")


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("caption benchmark")
    parser.add_argument("--models-dir", default="var/models")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
