from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from models.mood.config import TrainConfig
from models.mood.model import MoodNet
from models.mood.stages import make_optimizer, make_scheduler, set_stage


def _step(model: MoodNet, optimizer: torch.optim.Optimizer) -> None:
    model.train()
    loss = nn.functional.cross_entropy(model(torch.randn(4, 3, 64, 64)), torch.tensor([0, 1, 2, 3]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_stage_one_trains_only_the_head(random_model: MoodNet) -> None:
    config = TrainConfig(head_lr=1e-2)
    set_stage(random_model, 1, config)
    assert not any(p.requires_grad for p in random_model.backbone.parameters())
    optimizer = make_optimizer(random_model, 1, config)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-2]
    backbone = {k: v.clone() for k, v in random_model.backbone.state_dict().items()}
    head = [p.clone() for p in random_model.head.parameters()]
    _step(random_model, optimizer)
    for name, value in random_model.backbone.state_dict().items():  # BatchNorm stats too
        assert torch.equal(value, backbone[name]), name
    assert any(not torch.equal(a, b) for a, b in zip(head, random_model.head.parameters(),
                                                      strict=True))


def test_stage_two_gives_each_layer_group_its_own_rate(random_model: MoodNet) -> None:
    config = TrainConfig(finetune_lr=1e-3, lr_ratio=0.5)
    set_stage(random_model, 2, config)
    assert all(p.requires_grad for p in random_model.parameters())
    optimizer = make_optimizer(random_model, 2, config)
    lrs = [g["lr"] for g in optimizer.param_groups]
    assert len(lrs) == len(random_model.layer_groups) + 1
    assert lrs[-1] == pytest.approx(1e-3)
    assert all(a == pytest.approx(b * 0.5) for a, b in itertools.pairwise(lrs))
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(
        list(random_model.parameters()))
    first = random_model.layer_groups[0]
    before = [p.clone() for p in first.parameters()]
    _step(random_model, optimizer)
    assert any(not torch.equal(a, b) for a, b in zip(before, first.parameters(), strict=True))


def test_one_cycle_peaks_at_each_groups_own_rate(random_model: MoodNet) -> None:
    config = TrainConfig(finetune_lr=1e-3, lr_ratio=0.1)
    set_stage(random_model, 2, config)
    optimizer = make_optimizer(random_model, 2, config)
    peaks = [g["lr"] for g in optimizer.param_groups]
    scheduler = make_scheduler(optimizer, config, epochs=1, steps_per_epoch=10)
    seen = []
    for _ in range(10):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    for i, peak in enumerate(peaks):
        assert max(row[i] for row in seen) == pytest.approx(peak, rel=0.05)
