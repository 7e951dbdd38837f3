"""The demo mood model: trained by Cradle's own code on its own synthetic nursery scenes.

It lets `cradle up` show moods before a family has labelled any photos. The frames are
those the demo captioner learns from and the demo camera shows (models/scenes.py): a
room camera over a cot, the baby's face showing its mood. Only the head is trained (on
features of the frozen ImageNet MobileNetV2 at 160 px, computed once, as the captioner
sees them, so the vision worker runs one backbone pass for both), so it builds in about
a minute on two CPU cores and its checkpoint is head-only: the head and the familiarity
statistics, with the backbone read from the models folder. It knows cartoons, not
babies: a family should train on its own photos (`cradle mood train`). The steps every
demo model shares (the scenes, the scratch run, the files kept) are models/demos.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from models import demos
from models.mood.config import MoodConfig, TrainConfig
from models.mood.training import TrainArgs, main
from models.scenes import moods_csv

DEMO_CONFIG = MoodConfig(image_size=160)
DEMO_TRAINING = TrainConfig(
    batch_size=32, head_epochs=25, finetune_epochs=0, head_lr=3e-3, patience=5,
    augment=None, cache_features=True,
)


def demo_path(models_dir: Path) -> Path:
    return demos.demo_path(models_dir, "mood")


def build_demo(
    models_dir: Path, *, images: int = 1400, sessions: int = 40, seed: int = 0,
    console: Console | None = None,
) -> dict[str, Any]:
    """Synthesise scenes, train the head, write `mood/demo.pt` and `mood/demo.json`."""

    def train(captions_csv: Path, run: Path) -> tuple[dict[str, Any], dict[str, Path]]:
        args = TrainArgs(data=moods_csv(captions_csv), out_dir=run, model=DEMO_CONFIG,
                         train=DEMO_TRAINING, weights_dir=models_dir, resume=False,
                         device="cpu", test_fraction=0.2, val_fraction=0.2)
        summary = main(args, console)
        summary.pop("skipped", None)
        return summary, {".pt": Path(summary["checkpoint"])}

    return demos.build("mood", models_dir, train, images=images, sessions=sessions, seed=seed,
                       size=DEMO_CONFIG.image_size + 16)
