"""The two training stages: what is frozen, and which learning rate each part gets.

Stage 1 trains the new head on a frozen backbone (its random weights would otherwise
send large gradients into good ImageNet filters). Stage 2 unfreezes everything with
discriminative rates: the head gets `finetune_lr`, each layer group nearer the input
`lr_ratio` times the one above it, since early filters are generic and need little change.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau

from models.mood.config import TrainConfig
from models.mood.model import MoodNet

Scheduler = OneCycleLR | ReduceLROnPlateau


def set_stage(model: MoodNet, stage: int, config: TrainConfig) -> None:
    frozen = stage == 1
    for parameter in model.backbone.parameters():
        parameter.requires_grad_(not frozen)
    for parameter in model.head.parameters():
        parameter.requires_grad_(True)
    model.frozen_batchnorm = frozen or not config.train_batchnorm


def stage_lrs(model: MoodNet, stage: int, config: TrainConfig) -> list[float]:
    """Peak learning rate per parameter group, input -> head."""
    if stage == 1:
        return [config.head_lr]
    count = len(model.param_groups())
    return [config.finetune_lr * config.lr_ratio ** (count - 1 - i) for i in range(count)]


def make_optimizer(model: MoodNet, stage: int, config: TrainConfig) -> torch.optim.AdamW:
    modules = [model.head] if stage == 1 else model.param_groups()
    names = ["head"] if stage == 1 else [f"group{i}" for i in range(len(modules) - 1)] + ["head"]
    groups: list[dict[str, Any]] = [
        {"params": [p for p in module.parameters() if p.requires_grad], "lr": lr, "name": name}
        for module, lr, name in zip(modules, stage_lrs(model, stage, config), names, strict=True)
    ]
    return torch.optim.AdamW(groups, weight_decay=config.weight_decay)


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, epochs: int, steps_per_epoch: int
) -> Scheduler:
    """One-cycle steps every batch; ReduceLROnPlateau steps every epoch on validation loss."""
    if config.schedule == "onecycle":
        peaks = [group["lr"] for group in optimizer.param_groups]
        return OneCycleLR(optimizer, max_lr=peaks, total_steps=max(1, epochs * steps_per_epoch),
                          pct_start=0.3)
    return ReduceLROnPlateau(optimizer, factor=0.5, patience=config.plateau_patience)
