"""Mood classifier throughput: inference and training images per second.

    python -m bench.mood                 # CPU (two threads): one image per call vs batches
                                         # of 8/16/32, fp32 vs channels-last; training
    python -m bench.mood --device cuda   # GPU: fp32 vs AMP, eager vs torch.compile

Each device's figures are merged into bench/results/mood.json (so CPU and GPU runs from
different machines sit side by side) and bench/results/mood.md is rewritten from it.
Timings are medians over repeated runs after warm-up; ImageNet weights are used when the
models folder holds them (the speed is the same with random weights).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from models.backbones import weights_path
from models.mood.config import MoodConfig, TrainConfig
from models.mood.model import MoodNet, build_model
from models.mood.stages import make_optimizer, set_stage

RESULTS = Path(__file__).resolve().parent / "results"


Step = Callable[[], None]


def _rates(steps: dict[str, tuple[Step, int]], device: torch.device, repeats: int,
           warmup: int = 2) -> dict[str, float]:
    """Median images/s of each step (which handles `images` images per call). The variants
    take turns within each repeat, so a busy machine slows them alike."""
    for step, _ in steps.values():
        for _ in range(warmup):
            step()
    rates: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, (step, images) in steps.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[name].append(images / (time.perf_counter() - start))
    return {name: round(statistics.median(values), 1) for name, values in rates.items()}


def _model(size: int, device: torch.device, models_dir: Path, *,
           channels_last: bool = False) -> MoodNet:
    present = weights_path("mobilenet_v2", models_dir).is_file()
    model = build_model(MoodConfig(image_size=size), "imagenet" if present else None,
                        weights_dir=models_dir).to(device).eval()
    return model.to(memory_format=torch.channels_last) if channels_last else model


def _infer(model: nn.Module, batch: int, size: int, device: torch.device, *,
           channels_last: bool = False, amp: bool = False) -> tuple[Step, int]:
    images = torch.randn(batch, 3, size, size, device=device)  # (B,3,S,S)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def step() -> None:
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            model(images).softmax(dim=1)  # (B,K)

    return step, batch


def _train(model: MoodNet, stage: int, batch: int, size: int, device: torch.device, *,
           amp: bool = False, compile_model: bool = False) -> tuple[Step, int]:
    config = TrainConfig()
    set_stage(model, stage, config)
    optimizer = make_optimizer(model, stage, config)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    net = cast(nn.Module, torch.compile(model)) if compile_model else model
    images = torch.randn(batch, 3, size, size, device=device)
    if device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, len(model.config.classes), (batch,), device=device)

    def step() -> None:
        model.train()
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            loss = nn.functional.cross_entropy(net(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return step, batch


def _head_on_features(model: MoodNet, features: torch.Tensor) -> tuple[Step, int]:
    """Stage 1 with cached features: only the head runs, 32 feature vectors per step."""
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=1e-3)
    labels = torch.randint(0, len(model.config.classes), (32,))

    def step() -> None:
        for start in range(0, len(features), 32):
            loss = nn.functional.cross_entropy(model.head(features[start:start + 32]), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return step, len(features)


def bench_cpu(models_dir: Path, size: int, repeats: int) -> dict[str, Any]:
    device = torch.device("cpu")
    plain = _model(size, device, models_dir)
    channels_last = _model(size, device, models_dir, channels_last=True)
    inference = {}
    for batch in (1, 8, 16, 32):
        inference[str(batch)] = _rates({
            "fp32": _infer(plain, batch, size, device),
            "channels_last": _infer(channels_last, batch, size, device, channels_last=True),
        }, device, repeats * 4 if batch == 1 else repeats)
    width = next(m for m in plain.head.modules() if isinstance(m, nn.Linear)).in_features
    training = _rates({
        "stage1_frozen_backbone_batch16": _train(_model(size, device, models_dir), 1, 16, size,
                                                 device),
        "stage2_full_finetune_batch16": _train(_model(size, device, models_dir), 2, 16, size,
                                               device),
        "stage1_cached_features_batch32": _head_on_features(plain, torch.randn(256, width)),
    }, device, repeats)
    single = inference["1"]["fp32"]
    return {
        "inference_images_per_s": inference,
        "training_images_per_s": training,
        "ratios": {
            **{f"batch{b}_vs_single_fp32": round(inference[str(b)]["fp32"] / single, 2)
               for b in (8, 16, 32)},
            **{f"channels_last_vs_fp32_batch{b}": round(
                inference[str(b)]["channels_last"] / inference[str(b)]["fp32"], 2)
               for b in (1, 8, 16, 32)},
        },
    }


def bench_cuda(models_dir: Path, size: int, repeats: int) -> dict[str, Any]:
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    model = _model(size, device, models_dir, channels_last=True)
    compiled = cast(nn.Module, torch.compile(model))
    inference = {}
    for batch in (1, 32, 128):
        steps = {
            "fp32": _infer(model, batch, size, device, channels_last=True),
            "amp": _infer(model, batch, size, device, channels_last=True, amp=True),
        }
        if batch > 1:
            steps["amp_compiled"] = _infer(compiled, batch, size, device, channels_last=True,
                                           amp=True)
        inference[str(batch)] = _rates(steps, device, repeats)
    training = _rates({
        "stage2_fp32_batch64": _train(_model(size, device, models_dir), 2, 64, size, device),
        "stage2_amp_batch64": _train(_model(size, device, models_dir), 2, 64, size, device,
                                     amp=True),
        "stage2_amp_compiled_batch64": _train(_model(size, device, models_dir), 2, 64, size,
                                              device, amp=True, compile_model=True),
    }, device, repeats)
    return {
        "gpu": torch.cuda.get_device_name(),
        "inference_images_per_s": inference,
        "training_images_per_s": training,
        "ratios": {
            "amp_vs_fp32_inference_batch128": round(
                inference["128"]["amp"] / inference["128"]["fp32"], 2),
            "compiled_vs_eager_amp_inference_batch128": round(
                inference["128"]["amp_compiled"] / inference["128"]["amp"], 2),
            "batch128_vs_single_amp": round(inference["128"]["amp"] / inference["1"]["amp"], 2),
            "amp_vs_fp32_training": round(
                training["stage2_amp_batch64"] / training["stage2_fp32_batch64"], 2),
            "compiled_vs_eager_amp_training": round(
                training["stage2_amp_compiled_batch64"] / training["stage2_amp_batch64"], 2),
        },
    }


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    lines = ["# Mood classifier throughput (images/s)", "",
             "Written by `python -m bench.mood` from `mood.json`: MobileNetV2 mood model, "
             "medians of repeated timed runs after warm-up, variants interleaved.", ""]
    for label, run in results.items():
        rows = run["inference_images_per_s"]
        columns = list(dict.fromkeys(c for row in rows.values() for c in row))
        lines += [f"## {label}: {run.get('gpu', run['machine'])}", "",
                  f"{run['image_size']} px, torch {run['torch']}, {run['threads']}", "",
                  *([run["note"], ""] if run.get("note") else []),
                  "| inference batch | " + " | ".join(columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {batch} | " + " | ".join(str(row.get(c, "-")) for c in columns) + " |"
                  for batch, row in rows.items()]
        lines += ["", "| training | images/s |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in run["training_images_per_s"].items()]
        lines += ["", "| ratio | x |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in run["ratios"].items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(0)
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
        run = bench_cpu(args.models_dir, args.size, args.repeats)
        threads = f"{args.threads} CPU threads, load average {os.getloadavg()[0]:.1f} at start"
    else:
        run = bench_cuda(args.models_dir, args.size, args.repeats)
        threads = "GPU"
    run.update(machine=_cpu_name(), image_size=args.size,
               torch=torch.__version__, threads=threads, note=args.note)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "mood.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    results[args.label or args.device] = run
    path.write_text(json.dumps(results, indent=1) + "\n")
    write_markdown(results, RESULTS / "mood.md")
    return run


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--size", type=int, default=224, help="image side in pixels")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--label", help="key in mood.json [the device]")
    parser.add_argument("--note", default="", help="a line on the conditions of this run")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    return parser


if __name__ == "__main__":
    print(json.dumps(main(get_args_parser().parse_args()), indent=1))
