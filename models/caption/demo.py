"""The demo captioner: trained by Cradle's own code on its own synthetic nursery scenes.

It lets `cradle up` describe frames before a family has captioned any photos. The
backbone stays frozen ImageNet MobileNetV2 at 160 px, the same as the demo mood model,
so the vision worker shares one backbone pass between them; only the projection and the
LSTM are trained (on feature maps computed once), which takes a few minutes on two CPU
cores, and the checkpoint is head-only (about 2.6 MB). It knows cartoons, not nurseries.
The steps every demo model shares (the scenes, the scratch run, the files kept) are
models/demos.py's.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from models import demos
from models.caption.config import CaptionConfig, TrainConfig
from models.caption.safety import DEFAULT_RULES, RuleSet, load_rules
from models.caption.training import TrainArgs, main

DEMO_CONFIG = CaptionConfig(image_size=160)
DEMO_TRAINING = TrainConfig(epochs=20, patience=5)
# Synthetic scenes whose captions must raise an alert, and the alert kind they must raise.
HAZARD_SCENES = {"crawling": "near_stairs", "standing": "at_window", "climbing": "climbing"}


def demo_path(models_dir: Path) -> Path:
    return demos.demo_path(models_dir, "caption")


def scenes_by_image(captions_csv: Path) -> dict[str, str]:
    """Image path (as written in the split) -> synthetic scene name."""
    root = captions_csv.parent
    with captions_csv.open(newline="") as stream:
        return {str(root / row["image"]): row["scene"] for row in csv.DictReader(stream)}


def hazard_accuracy(captions: Sequence[str], scenes: Sequence[str], rules: RuleSet,
                    confidences: Sequence[float] | None = None) -> dict[str, float]:
    """Share of hazard scenes whose caption raises the right alert kind, and share of the
    other scenes that raise none of those kinds (each caption at its decoder confidence,
    or 1 where none are given)."""
    watched = set(HAZARD_SCENES.values())
    hits = alarms = hazards = others = 0
    scores = confidences or [1.0] * len(captions)
    for caption, scene, score in zip(captions, scenes, scores, strict=True):
        kinds = {h.kind for h in rules.match(caption, score)}
        if scene in HAZARD_SCENES:
            hazards += 1
            hits += HAZARD_SCENES[scene] in kinds
        else:
            others += 1
            alarms += bool(kinds & watched)
    return {"hazard_recall": hits / max(hazards, 1), "false_alarm_rate": alarms / max(others, 1),
            "hazard_images": hazards}


def build_demo(models_dir: Path, *, images: int = 1400, sessions: int = 40, seed: int = 0,
               console: Console | None = None) -> dict[str, Any]:
    """Synthesise scenes, train, write caption/demo.pt, demo.vocab.json and demo.json."""

    def train(captions_csv: Path, run: Path) -> tuple[dict[str, Any], dict[str, Path]]:
        args = TrainArgs(data=captions_csv, out_dir=run, model=DEMO_CONFIG, train=DEMO_TRAINING,
                         weights_dir=models_dir, resume=False, device="cpu")
        summary = main(args, console)
        scene_of = scenes_by_image(captions_csv)
        test = json.loads((run / "test_captions.json").read_text())
        summary.update(hazard_accuracy([t["caption"] for t in test], [scene_of[t["image"]] for t in test],
                                       load_rules(DEFAULT_RULES), [t["confidence"] for t in test]))
        summary["test_images"] = summary["images"]  # `images` becomes the scenes drawn
        return summary, {".pt": run / "best.pt", ".vocab.json": run / "vocab.json",
                         ".history.png": run / "history.png"}

    return demos.build("caption", models_dir, train, images=images, sessions=sessions, seed=seed,
                       size=DEMO_CONFIG.image_size + 16)
