from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.mood.audit import audit, out_of_fold_probabilities, write_audit
from models.mood.data import Sample
from models.mood.evaluation import (
    confusion_text,
    evaluate_model,
    expected_calibration_error,
    write_report,
)
from models.mood.model import MoodNet


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    labels = np.array([0, 1, 0, 1])
    sure = np.eye(2)[labels]
    assert expected_calibration_error(sure, labels) == pytest.approx(0.0)
    hedged = np.tile([0.75, 0.25], (4, 1))  # 75 % confident, right half the time
    assert expected_calibration_error(hedged, labels) == pytest.approx(0.25)


def test_report_has_every_part(
    random_model: MoodNet, small_samples: list[Sample], tmp_path: Path
) -> None:
    report = evaluate_model(random_model, small_samples[:20], batch_size=8, worst=5)
    assert 0 <= report.accuracy <= 1 and 0 <= report.ece <= 1
    assert set(report.per_class) == set(random_model.config.classes)
    assert sum(map(sum, report.confusion)) == 20
    assert sum(row["support"] for row in report.per_class.values()) == 20
    assert len(report.worst) <= 5
    probabilities = [row["label_probability"] for row in report.worst]
    assert probabilities == sorted(probabilities)
    folder = write_report(report, tmp_path / "eval")
    assert json.loads((folder / "metrics.json").read_text())["accuracy"] == report.accuracy
    assert (folder / "confusion.txt").read_text() == confusion_text(report)
    assert (folder / "confusion.png").stat().st_size > 0


def test_out_of_fold_audit_finds_the_mislabelled_photo() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    features = rng.normal(size=(120, 8)) + 4 * np.eye(3, 8)[labels]  # well separated classes
    groups = [f"s{i % 6}" for i in range(120)]
    noisy = labels.copy()
    noisy[7] = 2  # a photo of class 0 filed under class 2
    probs = out_of_fold_probabilities(features, noisy, groups, classes=3, folds=3)
    assert np.allclose(probs.sum(axis=1), 1)
    own = probs[np.arange(120), noisy]
    assert int(np.argmin(own)) == 7
    assert int(probs[7].argmax()) == 0


def test_audit_ranks_real_photos(
    random_model: MoodNet, small_samples: list[Sample], tmp_path: Path
) -> None:
    suspects = audit(random_model, small_samples, folds=2, batch_size=16)
    assert len(suspects) == len(small_samples)
    ranks = [s.label_probability for s in suspects]
    assert ranks == sorted(ranks)
    lines = write_audit(suspects, tmp_path / "audit.csv").read_text().splitlines()
    assert lines[0] == "path,label,suggested,label_probability" and len(lines) == 49
