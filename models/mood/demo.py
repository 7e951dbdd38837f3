"""The demo mood model: trained by Cradle's own code on its own synthetic faces.

It lets `cradle up` show moods before a family has labelled any photos. Only the head is
trained (on features of the frozen ImageNet MobileNetV2, computed once), so it builds in
about a minute on two CPU cores and its checkpoint is head-only: a few kilobytes, with
the backbone read from the models folder. It knows cartoons, not babies: a family should
train on its own photos (`cradle mood train`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from models.mood.config import MoodConfig, TrainConfig
from models.mood.model import checkpoint_version
from models.mood.synth import synthesize
from models.mood.training import TrainArgs, main

DEMO_CONFIG = MoodConfig(image_size=160)
DEMO_TRAINING = TrainConfig(
    batch_size=32, head_epochs=25, finetune_epochs=0, head_lr=3e-3, patience=5,
    augment=None, cache_features=True,
)


def demo_path(models_dir: Path) -> Path:
    return models_dir / "mood" / "demo.pt"


def build_demo(
    models_dir: Path, *, per_class: int = 200, sessions: int = 24, seed: int = 0,
    console: Console | None = None,
) -> dict[str, Any]:
    """Synthesise faces, train the head, write `mood/demo.pt` and `mood/demo.json`."""
    started = time.perf_counter()
    target = demo_path(models_dir)
    with tempfile.TemporaryDirectory(prefix="cradle-mood-demo-") as scratch:
        work = Path(scratch)
        manifest = synthesize(work / "faces", per_class=per_class, sessions=sessions,
                              size=DEMO_CONFIG.image_size + 16, seed=seed)
        args = TrainArgs(data=manifest, out_dir=work / "run", model=DEMO_CONFIG,
                         train=DEMO_TRAINING, weights_dir=models_dir, resume=False,
                         device="cpu", test_fraction=0.2, val_fraction=0.2)
        summary = main(args, console)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(summary["checkpoint"], target)
    summary.update(checkpoint=str(target), model_version=checkpoint_version(target),
                   data="synthetic cartoon faces (models/mood/synth.py)",
                   images=per_class * len(DEMO_CONFIG.classes), seed=seed,
                   seconds=round(time.perf_counter() - started, 1))
    summary.pop("skipped", None)
    target.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    return summary
