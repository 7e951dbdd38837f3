"""Label cleaning: which photos does a model trained without them disagree with most?

Backbone features are computed once; then, fold by fold (grouped by session so a photo is
never judged by a model that saw its near-duplicates), a logistic-regression head is
fitted on the other folds and predicts the held-out photos. Photos whose own label gets
a low out-of-fold probability come first: those are the ones to look at and relabel.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader

from models.mood.data import DataError, GroupBy, MoodDataset, Sample
from models.mood.loops import Precision, extract_features
from models.mood.model import MoodNet
from models.transforms import eval_transform


@dataclass(frozen=True)
class Suspect:
    path: Path
    label: str
    suggested: str  # the class the out-of-fold model liked best
    label_probability: float  # out-of-fold probability of the photo's own label


def out_of_fold_probabilities(
    features: np.ndarray, labels: np.ndarray, groups: Sequence[str], classes: int,
    folds: int = 5, seed: int = 0,
) -> np.ndarray:
    """(N,K) probabilities, each row from a head that never saw that photo's group."""
    distinct = len(set(groups))
    if distinct < 2:
        raise DataError("auditing needs photos from at least two sessions or days")
    splitter = StratifiedGroupKFold(n_splits=min(folds, distinct), shuffle=True,
                                    random_state=seed)
    probs = np.full((len(labels), classes), 1.0 / classes)
    for fit_rows, held_rows in splitter.split(features, labels, list(groups)):
        seen = np.unique(labels[fit_rows])
        if len(seen) < 2:
            continue  # nothing to learn from one class; those rows keep the uniform guess
        head = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
        head.fit(features[fit_rows], labels[fit_rows])
        probs[np.ix_(held_rows, seen)] = head.predict_proba(features[held_rows])
        probs[np.ix_(held_rows, np.setdiff1d(np.arange(classes), seen))] = 0.0
    return probs


def audit(
    model: MoodNet, samples: Sequence[Sample], *, by: GroupBy = "session", folds: int = 5,
    batch_size: int = 32, seed: int = 0,
) -> list[Suspect]:
    """Every sample, most suspicious label first."""
    classes = model.config.classes
    device = next(model.parameters()).device
    dataset = MoodDataset(samples, classes, eval_transform(model.config.image_size))
    precision = Precision.for_device(device, amp=True, channels_last=False)
    features, labels = extract_features(model, DataLoader(dataset, batch_size=batch_size),
                                        precision)  # (N,C), (N,)
    probs = out_of_fold_probabilities(features.numpy(), labels.numpy(),
                                      [s.group(by) for s in samples], len(classes), folds, seed)
    own = probs[np.arange(len(samples)), labels.numpy()]
    suspects = [
        Suspect(s.path, s.label, classes[int(probs[i].argmax())], float(own[i]))
        for i, s in enumerate(samples)
    ]
    return sorted(suspects, key=lambda suspect: suspect.label_probability)


def write_audit(suspects: Sequence[Suspect], path: Path) -> Path:
    """A CSV a parent can open in a spreadsheet, worst first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "label", "suggested", "label_probability"])
        for s in suspects:
            writer.writerow([s.path, s.label, s.suggested, f"{s.label_probability:.4f}"])
    return path
