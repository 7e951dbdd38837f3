"""Teaching Cradle the family's nursery: train on their labelled frames, score on the
frames they hold out, and say whether the new model may serve.

Pure model code: frames in (a path, a mood and scene tags a caregiver gave, the day they
come from), checkpoints and scores out. The job that gathers the labels, keeps the
registry and tells the family lives in services/teach/.

- The mood classifier trains with the project's recipe (models/mood/training.py: the
  head on the frozen ImageNet backbone, then unfrozen with discriminative rates when
  `mood_finetune_epochs` asks, one-cycle, augmentation, AMP on a GPU).
- The captioner trains on captions written from the tags, several phrasings per tag
  set as the synthetic data has, and its scene head on the tags themselves
  (models/caption/tagging.py).
- The captioner keeps the frozen ImageNet backbone; the mood classifier unfreezes its
  own for a few epochs by default (a real nursery's faces are far from ImageNet's), which
  costs the worker a second backbone pass per frame (`mood_finetune_epochs=0` keeps one
  shared pass). Both models' familiarity statistics are the family's own frames.
- Scores are what the family would see: a mood counts as right only from a frame the
  model finds familiar, a hazard only from a frame the captioner does.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from models.caption.config import CaptionConfig
from models.caption.config import TrainConfig as CaptionTraining
from models.caption.safety import RuleSet
from models.caption.serve import Caption, Captioner
from models.caption.training import TrainArgs as CaptionArgs
from models.caption.training import main as train_captioner
from models.mood import MOODS
from models.mood.config import MoodConfig
from models.mood.config import TrainConfig as MoodTraining
from models.mood.serve import MoodPredictor, MoodResult
from models.mood.training import TrainArgs as MoodArgs
from models.mood.training import main as train_mood_classifier
from models.transforms import Augment
from models.vision import FrameAnalysis, hazards

BABY, COT = ("the baby", "a baby", "the infant"), ("cot", "crib")


@dataclass(frozen=True)
class TaughtFrame:
    """One frame a caregiver labelled."""

    path: Path
    mood: str | None  # None: only scene tags were given
    tags: tuple[str, ...]
    session: str  # camera and local day: the unit that is held out whole
    captured_at: datetime


@dataclass(frozen=True)
class TeachConfig:
    """How the family's models are trained (services/settings: the `teach` section)."""

    image_size: int = 160  # the demo models' size, so mood and caption share one pass
    mood_epochs: int = 20  # stage 1: the head on the frozen backbone
    mood_finetune_epochs: int = 4  # stage 2: unfrozen with discriminative rates (two passes per frame)
    augment: bool = True  # random crops, flips, light: slower (the backbone sees every epoch)
    caption_epochs: int = 20
    seed: int = 0
    device: str | None = None  # "cpu", "cuda"; None: CUDA when present


@dataclass(frozen=True)
class Gate:
    """When a candidate may replace the serving model (scores on the held-out frames)."""

    margin: float = 0.02  # better than the serving model by at least this
    mood_accuracy_floor: float = 0.6  # and never below this accuracy...
    mood_recall_floor: float = 0.3  # ...nor this recall for any mood the held-out frames show
    hazard_recall_floor: float = 0.6  # scenes: the share of held-out hazards it raises...
    hazard_precision_floor: float = 0.5  # ...and the share of its hazards that were real


@dataclass
class Scores:
    """A model on the family's held-out frames."""

    family: str
    frames: int
    familiar: float  # share of the frames the model finds familiar
    metrics: dict[str, Any] = field(default_factory=dict)
    confusion: list[list[int]] | None = None  # moods: rows true, columns said (unfamiliar: not said)


def captions_for(tags: Sequence[str], phrases: Mapping[str, Sequence[str]], rng: random.Random,
                 count: int = 4) -> list[str]:
    """Several phrasings of a tag set: the first tag's phrase, then the others joined by
    "and" ("the baby is on the floor and the baby is near the stairs")."""
    known = [t for t in tags if t in phrases]
    if not known:
        return []
    written: set[str] = set()
    for _ in range(count * 4):
        if len(written) == count:
            break
        parts = [rng.choice(list(phrases[t])).format(b=rng.choice(BABY), c=rng.choice(COT)) for t in known]
        written.add(" and ".join(parts))
    return sorted(written)


def grouping(frames: Sequence[TaughtFrame]) -> Callable[[TaughtFrame], str]:
    """The unit the trainers' own validation split keeps whole: the day, as for the
    held-out side (so the familiarity threshold is set on days the model never saw);
    with fewer than three training days, the hour, which is the best a young set allows."""
    if len({f.session for f in frames}) >= 3:
        return lambda frame: frame.session
    return lambda frame: f"{frame.session}-{frame.captured_at:%H}"


def write_moods_csv(frames: Sequence[TaughtFrame], path: Path) -> Path:
    group = grouping(frames)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "label", "captured_at", "session"])
        for frame in frames:
            if frame.mood:
                writer.writerow([frame.path, frame.mood, frame.captured_at.isoformat(), group(frame)])
    return path


def write_captions_csv(frames: Sequence[TaughtFrame], phrases: Mapping[str, Sequence[str]], path: Path,
                       seed: int = 0) -> Path:
    rng, group = random.Random(seed), grouping(frames)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image", "caption", "session", "tags"])
        for frame in frames:
            for caption in captions_for(frame.tags, phrases, rng):
                writer.writerow([frame.path, caption, group(frame), ";".join(frame.tags)])
    return path


def train_mood(frames: Sequence[TaughtFrame], out_dir: Path, config: TeachConfig, weights_dir: Path,
               console: Console | None = None) -> tuple[Path, dict[str, Any]]:
    """A mood checkpoint from the frames' moods (its run folder is `out_dir`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = write_moods_csv(frames, out_dir / "moods.csv")
    training = MoodTraining(
        batch_size=32, head_epochs=config.mood_epochs, finetune_epochs=config.mood_finetune_epochs,
        patience=5, augment=Augment() if config.augment else None,
        cache_features=not config.augment, seed=config.seed)
    args = MoodArgs(data=manifest, out_dir=out_dir / "run", model=MoodConfig(image_size=config.image_size),
                    train=training, weights_dir=weights_dir, val_fraction=0.2, test_fraction=0.0,
                    resume=False, device=config.device)
    summary = train_mood_classifier(args, console)
    return Path(summary["checkpoint"]), summary


def train_caption(frames: Sequence[TaughtFrame], tags: Sequence[str], phrases: Mapping[str, Sequence[str]],
                  out_dir: Path, config: TeachConfig, weights_dir: Path,
                  console: Console | None = None) -> tuple[Path, dict[str, Any]]:
    """A captioner with a scene head from the frames' tags (its run folder is `out_dir`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tagged = [f for f in frames if f.tags]
    captions = write_captions_csv(tagged, phrases, out_dir / "captions.csv", config.seed)
    args = CaptionArgs(data=captions, out_dir=out_dir / "run",
                       model=CaptionConfig(image_size=config.image_size, tags=tuple(tags)),
                       train=CaptionTraining(epochs=config.caption_epochs, patience=5, val_fraction=0.2,
                                             test_fraction=0.0, min_word_count=1, seed=config.seed),
                       weights_dir=weights_dir, resume=False, device=config.device)
    metrics = train_captioner(args, console)
    return Path(metrics["checkpoint"]), metrics


def score_mood(checkpoint: Path, frames: Sequence[TaughtFrame], weights_dir: Path,
               device: str = "cpu") -> Scores:
    """Served accuracy and recall per mood on the held-out frames that have a mood: a
    frame the model finds unfamiliar counts as not answered."""
    held = [f for f in frames if f.mood]
    predictor = MoodPredictor(checkpoint, device, weights_dir=weights_dir)
    classes = list(predictor.classes)
    confusion = [[0] * len(classes) for _ in classes]
    right = familiar = 0
    for frame, result in zip(held, predictor.predict_paths([f.path for f in held]), strict=True):
        if not isinstance(result, MoodResult) or frame.mood not in classes:
            continue
        familiar += result.familiar
        if result.familiar:
            confusion[classes.index(frame.mood)][classes.index(result.mood)] += 1
            right += result.mood == frame.mood
    shown = Counter(f.mood for f in held)
    recall = {c: confusion[i][i] / shown[c] for i, c in enumerate(classes) if shown[c]}
    return Scores("mood", len(held), familiar / max(len(held), 1),
                  {"accuracy": right / max(len(held), 1), "recall": recall, "classes": classes,
                   "version": predictor.version}, confusion)


def score_scenes(checkpoint: Path, frames: Sequence[TaughtFrame], rules: RuleSet, weights_dir: Path,
                 device: str = "cpu") -> Scores:
    """Served hazard recall and precision on the held-out frames with scene tags: the
    hazard kinds the rules give the caregiver's tags, against those the captioner raises
    (its words and its scene head, from familiar frames only). Rules bound to a time of
    day (the empty cot at night) are left out of both sides."""
    held = [f for f in frames if f.tags]
    captioner = Captioner(checkpoint, device, weights_dir=weights_dir)
    hits = raised = real = familiar = 0
    for frame, caption in zip(held, captioner.describe_paths([f.path for f in held]), strict=True):
        truth = {h.kind for h in rules.match_tags(set(frame.tags))}
        said = set()
        if isinstance(caption, Caption):
            familiar += caption.familiar
            analysis = FrameAnalysis(frame.path, MoodResult(frame.path, "", {}, ""), caption)
            said = {h.kind for h in hazards(analysis, rules)}
        hits, raised, real = hits + len(truth & said), raised + len(said), real + len(truth)
    return Scores("caption", len(held), familiar / max(len(held), 1),
                  {"hazard_recall": hits / real if real else None,
                   "hazard_precision": hits / raised if raised else (1.0 if real else None),
                   "hazards": real, "version": captioner.version})


def judge(candidate: Scores, current: Scores | None, gate: Gate) -> tuple[bool, str]:
    """Whether `candidate` may replace `current` (None: nothing to beat), and why, in words."""
    if candidate.frames == 0:
        return False, "no held-out frame to score it on yet: label pictures from another day"
    c, now = candidate.metrics, current.metrics if current else {}
    if candidate.family == "mood":
        accuracy, before = c["accuracy"], now.get("accuracy", 0.0)
        worst = min(c["recall"].items(), key=lambda kv: kv[1], default=(None, 1.0))
        if accuracy < gate.mood_accuracy_floor:
            return False, (f"its accuracy on your held-out pictures, {accuracy:.0%}, is below "
                           f"{gate.mood_accuracy_floor:.0%}")
        if worst[1] < gate.mood_recall_floor:
            return False, (f"it finds only {worst[1]:.0%} of the '{worst[0]}' pictures "
                           f"(at least {gate.mood_recall_floor:.0%})")
        if accuracy < before + gate.margin:
            return False, (f"its accuracy, {accuracy:.0%}, is not {gate.margin:.0%} better than the "
                           f"serving model's {before:.0%}")
        return True, f"accuracy {accuracy:.0%} on your held-out pictures, against {before:.0%}"
    recall, precision = c["hazard_recall"], c["hazard_precision"]
    if recall is None:
        return False, ("none of the held-out pictures shows a hazard yet (stairs, window, climbing): "
                       "label some")
    if recall < gate.hazard_recall_floor:
        return False, (f"it raises {recall:.0%} of the held-out hazards "
                       f"(at least {gate.hazard_recall_floor:.0%})")
    if precision < gate.hazard_precision_floor:
        return False, (f"only {precision:.0%} of its hazards were real "
                       f"(at least {gate.hazard_precision_floor:.0%})")
    before = (now.get("hazard_recall") or 0.0) + (now.get("hazard_precision") or 0.0)
    if recall + precision < before + gate.margin:
        return False, (f"its hazard recall and precision ({recall:.0%}, {precision:.0%}) are no better "
                       "than the serving model's")
    return True, f"hazard recall {recall:.0%} and precision {precision:.0%} on your held-out pictures"


def confusion_picture(scores: Scores, path: Path) -> Path | None:
    """The held-out confusion matrix as a PNG, for the Teach screen."""
    if scores.confusion is None:
        return None
    import numpy as np

    from models.mood.plots import confusion_plot

    confusion_plot(np.array(scores.confusion), list(scores.metrics.get("classes", MOODS)), path)
    return path


def as_dict(scores: Scores) -> dict[str, Any]:
    return json.loads(json.dumps({"frames": scores.frames, "familiar": round(scores.familiar, 4),
                                  **scores.metrics, "confusion": scores.confusion}))
