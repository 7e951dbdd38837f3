"""The whole mood training path on one device: synthetic faces → `training.main` (stage 1
frozen head, stage 2 unfrozen with discriminative rates, one-cycle, AMP and channels-last
where the device is CUDA) → held-out score, once with AMP and once in fp32.

    python -m bench.mood_fit --device cuda --weights-dir var/models

Results are merged into bench/results/mood_fit.json and mood_fit.md. Only `models/` is
imported, so it runs on a machine that has torch, torchvision, sklearn and rich alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from models.mood.config import MoodConfig, TrainConfig
from models.mood.synth import synthesize
from models.mood.training import TrainArgs
from models.mood.training import main as train_main

RESULTS = Path(__file__).resolve().parent / "results"


def run(args: argparse.Namespace, amp: bool, manifest: Path, scratch: Path) -> dict[str, Any]:
    train = TrainConfig(
        batch_size=args.batch, head_epochs=args.epochs, finetune_epochs=args.epochs,
        amp=amp, channels_last=True, patience=args.epochs, num_workers=args.loader_workers,
    )
    out = scratch / f"run-{'amp' if amp else 'fp32'}"
    started = time.perf_counter()
    summary = train_main(TrainArgs(
        data=manifest, out_dir=out, model=MoodConfig(image_size=args.size), train=train,
        weights_dir=args.weights_dir, resume=False, device=args.device,
    ))
    seconds = time.perf_counter() - started
    history = json.loads((out / "history.json").read_text())
    trained = sum(summary["counts"]["train"].values())
    on_gpu = args.device.startswith("cuda")
    return {
        "amp": amp,
        "accuracy": round(summary["accuracy"], 4),
        "epochs": len(history),
        "seconds": round(seconds, 1),
        "train_images_per_s": round(trained * len(history) / seconds, 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20) if on_gpu else None,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cradle-mood-fit-") as folder:
        scratch = Path(folder)
        manifest = synthesize(scratch / "faces", per_class=args.per_class, size=args.size + 16)
        runs = [run(args, amp, manifest, scratch) for amp in (True, False)]
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor()
    result = {
        "device": device, "torch": torch.__version__, "size": args.size,
        "per_class": args.per_class, "epochs_per_stage": args.epochs, "runs": runs,
        "amp_vs_fp32_speed": round(runs[0]["train_images_per_s"] / runs[1]["train_images_per_s"], 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mood_fit.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Mood training end to end",
        "",
        f"{device}, torch {torch.__version__}; synthetic faces, {args.per_class} per class, "
        f"{args.size} px; {args.epochs} epochs frozen head + {args.epochs} epochs unfrozen "
        "(discriminative rates, one-cycle, channels-last).",
        "",
        "| precision | held-out accuracy | epochs | seconds | train images/s | peak GPU MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        lines.append(f"| {'AMP' if r['amp'] else 'fp32'} | {r['accuracy']:.1%} | {r['epochs']} | "
                     f"{r['seconds']} | {r['train_images_per_s']} | {r['peak_gpu_mb']} |")
    lines += ["", f"AMP vs fp32 training speed: {result['amp_vs_fp32_speed']}x.", "",
              "Reproduce: `python -m bench.mood_fit --device cuda --weights-dir var/models`."]
    (RESULTS / "mood_fit.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(result, indent=2))
    return result


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--weights-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--per-class", type=int, default=150)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per stage")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--loader-workers", type=int, default=4)
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
