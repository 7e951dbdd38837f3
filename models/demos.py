"""The demo models: trained by Cradle's own code on its own synthetic nursery scenes.

They let `cradle up` show moods and describe frames before a family has labelled any
photos. Each family's demo.py says what its demo is (the network's config, how it is
trained); `build` does the rest, the same for both: it draws the scenes
(models/scenes.py) in a scratch folder, has the family train on them, copies what the
run made to `<models dir>/<family>/demo.*` and writes `demo.json` (the run's summary,
the model's version, and where its data came from). They know cartoons, not babies.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models import checkpoints
from models.scenes import synthesize

DATA = "synthetic cartoon nursery scenes (models/scenes.py), not real data"
# (the scenes' captions.csv, an empty run folder) -> (the run's summary, the files to keep:
# {suffix of the demo file: the run's file}, ".pt" the checkpoint)
Train = Callable[[Path, Path], tuple[dict[str, Any], dict[str, Path]]]


def demo_path(models_dir: Path, family: str) -> Path:
    return models_dir / family / "demo.pt"


def build(family: str, models_dir: Path, train: Train, *, images: int, sessions: int, seed: int,
          size: int) -> dict[str, Any]:
    """Synthesise `images` scenes of `size` px, `train` on them, write `<family>/demo.pt`,
    the other files `train` keeps, and `demo.json`; returns the summary written there."""
    started = time.perf_counter()
    target = demo_path(models_dir, family)
    with tempfile.TemporaryDirectory(prefix=f"cradle-{family}-demo-") as scratch:
        work = Path(scratch)
        captions_csv = synthesize(work / "scenes", images=images, sessions=sessions, size=size, seed=seed)
        summary, keep = train(captions_csv, work / "run")
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix, made in keep.items():
            shutil.copyfile(made, target.with_suffix(suffix))
    summary.update(checkpoint=str(target), model_version=checkpoints.version(target), data=DATA,
                   images=images, seed=seed, seconds=round(time.perf_counter() - started, 1))
    target.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    return summary
