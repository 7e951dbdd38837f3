"""PNG figures for a training run: history, learning-rate finder, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt
import numpy as np


def history_plot(history: Sequence[dict[str, Any]], path: Path) -> Path:
    epochs = [h["epoch"] + 1 for h in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for key, style in (("train", "-o"), ("val", "-s")):
        loss_ax.plot(epochs, [h[f"{key}_loss"] for h in history], style, label=key)
        acc_ax.plot(epochs, [h[f"{key}_accuracy"] for h in history], style, label=key)
    stage_two = [h["epoch"] + 1 for h in history if h["stage"] == 2]
    for ax, name in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        if stage_two:
            ax.axvline(stage_two[0] - 0.5, color="grey", linestyle=":", label="unfreeze")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
    return _save(fig, path)


def lr_plot(lrs: Sequence[float], losses: Sequence[float], suggestion: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(lrs, losses)
    ax.axvline(suggestion, color="red", linestyle="--", label=f"suggested {suggestion:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("smoothed loss")
    ax.legend()
    return _save(fig, path)


def confusion_plot(matrix: np.ndarray, classes: Sequence[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() or 1
    for (row, col), count in np.ndenumerate(matrix):
        colour = "white" if count > top / 2 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=colour)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
