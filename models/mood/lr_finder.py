"""Learning-rate range test (Smith 2015): raise the rate exponentially batch by batch,
record the smoothed loss, and suggest the rate where the loss falls fastest.

The model's weights and the optimiser are restored afterwards, so the test costs a few
dozen batches and changes nothing."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.mood.loops import Batches, Precision
from models.mood.plots import lr_plot


@dataclass(frozen=True)
class LRFinding:
    lrs: list[float]
    losses: list[float]  # exponentially smoothed, bias-corrected
    suggestion: float  # steepest descent of the smoothed loss

    def plot(self, path: Path) -> Path:
        return lr_plot(self.lrs, self.losses, self.suggestion, path)


def find_lr(
    model: nn.Module, batches: Batches, optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
    precision: Precision, *, start: float = 1e-6, end: float = 1.0, steps: int = 80,
    smoothing: float = 0.9,
) -> LRFinding:
    """Sweep every param group's rate from `start` to `end` (keeping their ratios)."""
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    top = max(group["lr"] for group in optimizer.param_groups)
    ratios = [group["lr"] / top for group in optimizer.param_groups]
    factor = (end / start) ** (1 / max(steps - 1, 1))
    lrs, losses, average, best = [], [], 0.0, math.inf
    model.train()
    for step, (images, labels) in zip(range(steps), _forever(batches), strict=False):
        lr = start * factor**step
        for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
            group["lr"] = lr * ratio
        images, labels = precision.inputs(images), labels.to(precision.device)
        with precision.autocast():
            loss = loss_fn(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        average = smoothing * average + (1 - smoothing) * loss.item()
        smoothed = average / (1 - smoothing ** (step + 1))
        lrs.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if not math.isfinite(smoothed) or smoothed > 4 * best:
            break  # diverged: higher rates tell nothing more
    model.load_state_dict(saved_model)
    optimizer.load_state_dict(saved_optimizer)
    return LRFinding(lrs, losses, suggest(lrs, losses))


def _forever(batches: Batches) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    while True:  # a new pass each time, rather than itertools.cycle keeping every batch
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            return


def suggest(lrs: list[float], losses: list[float]) -> float:
    """The rate where d(loss)/d(log lr) is most negative, before the minimum."""
    if len(lrs) < 3:
        return lrs[0] if lrs else 1e-3
    stop = max(3, int(np.argmin(losses)) + 1)
    slopes = np.gradient(np.asarray(losses[:stop]), np.log(np.asarray(lrs[:stop])))
    return float(lrs[int(np.argmin(slopes))])
