"""Scoring a mood model on labelled photos: accuracy, per-class precision/recall/F1,
confusion matrix, expected calibration error, the share of photos the model finds
familiar, and the photos it got most wrong."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from torch.utils.data import DataLoader

from models.mood.data import MoodDataset, Sample
from models.mood.loops import Precision
from models.mood.model import MoodNet
from models.mood.plots import confusion_plot
from models.transforms import eval_transform


@dataclass(frozen=True)
class EvalReport:
    classes: list[str]
    accuracy: float
    per_class: dict[str, dict[str, float]]  # class -> precision, recall, f1, support
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    ece: float  # expected calibration error (15 equal-width confidence bins)
    worst: list[dict[str, Any]]  # the photos whose true class got the lowest probability
    familiar: float | None = None  # share the model finds familiar; None: it carries no statistics


@torch.inference_mode()
def predict_samples(
    model: MoodNet, samples: Sequence[Sample], batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Probabilities (N,K), true class indices (N,) and whether each is familiar (N,)
    (None when the model carries no familiarity) for decodable, labelled samples."""
    model.eval()
    device = next(model.parameters()).device
    precision = Precision.for_device(device, amp=True, channels_last=False)
    dataset = MoodDataset(samples, model.config.classes, eval_transform(model.config.image_size))
    probs, labels, familiar = [], [], []
    for images, batch_labels in DataLoader(dataset, batch_size=batch_size):
        with precision.autocast():
            features = model.embed(precision.inputs(images))  # (B,C)
            probs.append(model.predict_pooled(features).cpu())  # (B,K)
        if model.familiarity is not None:
            familiar.append(model.familiarity.scores(features) <= model.familiarity.threshold)  # (B,)
        labels.append(batch_labels)
    known = torch.cat(familiar).numpy() if familiar else None
    return torch.cat(probs).numpy(), torch.cat(labels).numpy(), known


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Weighted mean |accuracy - confidence| over confidence bins."""
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)
    correct = predicted == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def evaluate_model(
    model: MoodNet, samples: Sequence[Sample], batch_size: int = 32, worst: int = 10
) -> EvalReport:
    if not samples:
        raise ValueError("no labelled photos to evaluate on")
    classes = list(model.config.classes)
    probs, labels, familiar = predict_samples(model, samples, batch_size)
    predicted = probs.argmax(axis=1)
    indices = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=indices, zero_division=0)
    per_class = {
        name: {"precision": float(precision[i]), "recall": float(recall[i]),
               "f1": float(f1[i]), "support": int(support[i])}
        for i, name in enumerate(classes)
    }
    true_prob = probs[np.arange(len(labels)), labels]
    order = np.argsort(true_prob)[:worst]
    worst_rows = [
        {"path": str(samples[i].path), "label": classes[labels[i]],
         "predicted": classes[predicted[i]], "label_probability": float(true_prob[i])}
        for i in order if predicted[i] != labels[i] or true_prob[i] < 0.5
    ]
    return EvalReport(
        classes=classes,
        accuracy=float((predicted == labels).mean()),
        per_class=per_class,
        confusion=confusion_matrix(labels, predicted, labels=indices).tolist(),
        ece=expected_calibration_error(probs, labels),
        worst=worst_rows,
        familiar=float(familiar.mean()) if familiar is not None else None,
    )


def confusion_text(report: EvalReport) -> str:
    corner = "true \\ predicted"
    first = max(len(corner), *(len(c) for c in report.classes)) + 1
    width = max(6, *(len(c) for c in report.classes)) + 2
    lines = [corner.ljust(first) + "".join(c.rjust(width) for c in report.classes)]
    for name, row in zip(report.classes, report.confusion, strict=True):
        lines.append(name.ljust(first) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines) + "\n"


def write_report(report: EvalReport, folder: Path) -> Path:
    """metrics.json, confusion.txt and confusion.png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(asdict(report), indent=1))
    (folder / "confusion.txt").write_text(confusion_text(report))
    confusion_plot(np.array(report.confusion), report.classes, folder / "confusion.png")
    return folder
