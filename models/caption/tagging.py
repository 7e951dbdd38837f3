"""The captioner's scene head: which of the family's scene tags a frame shows.

A frame can show several tags at once (on the floor and near the stairs), so each tag
gets its own sigmoid, trained with binary cross-entropy on the pooled backbone features
of the labelled frames, and its own decision threshold, the one with the best F1 on the
validation frames (fastai lesson 3's multi-label recipe). Tags the rules file names
(`tags:` under a rule) become hazards beside the caption's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from models.caption.data import CaptionedImage
from models.caption.model import CaptionNet

THRESHOLDS = torch.linspace(0.05, 0.95, 19)  # the thresholds tried for each tag


def targets(samples: Sequence[CaptionedImage], tags: Sequence[str]) -> torch.Tensor:
    """0/1 per image and tag (N,T)."""
    return torch.tensor([[float(tag in s.tags) for tag in tags] for s in samples])


def f1_scores(probabilities: torch.Tensor, truth: torch.Tensor, threshold: torch.Tensor
              ) -> dict[str, torch.Tensor]:
    """Per-tag precision, recall and F1 (T,) of `probabilities` (N,T) at `threshold` (T,)."""
    said = probabilities >= threshold
    hits = (said & (truth > 0.5)).sum(0).float()
    precision = hits / said.sum(0).clamp(min=1)
    recall = hits / (truth > 0.5).sum(0).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-9)
    return {"precision": precision, "recall": recall, "f1": f1}


def fit_tagger(model: CaptionNet, train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor,
               val_y: torch.Tensor, *, epochs: int = 80, lr: float = 1e-2, seed: int = 0) -> dict[str, Any]:
    """Train `model.tagger` on pooled features (N,C) and 0/1 targets (N,T) with a one-cycle
    schedule, then set each tag's threshold from the validation frames; returns the
    validation precision, recall and F1 per tag."""
    assert model.tagger is not None and model.tag_thresholds is not None, "the model has no scene head"
    torch.manual_seed(seed)
    head = model.tagger
    device = head.weight.device
    x, y = train_x.float().to(device), train_y.float().to(device)
    positives = y.sum(0)
    # rare tags (the stairs, a few frames) weigh as much as common ones
    pos_weight = ((len(y) - positives) / positives.clamp(min=1)).clamp(1, 50)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-3)
    batch = 64
    steps = epochs * max(1, (len(x) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(epochs):
            for rows in torch.randperm(len(x), generator=generator).split(batch):
                loss = loss_fn(head(x[rows.to(device)]), y[rows.to(device)])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
    with torch.no_grad():
        probabilities = torch.sigmoid(head(val_x.float().to(device))).cpu()
    truth = val_y.float()
    chosen = torch.full((truth.shape[1],), 0.5)
    for t in range(truth.shape[1]):
        if truth[:, t].sum() == 0:
            continue  # no validation frame shows this tag: keep the even threshold
        scores = torch.stack([f1_scores(probabilities[:, t:t + 1], truth[:, t:t + 1], th.view(1))["f1"][0]
                              for th in THRESHOLDS])
        # Several thresholds often tie on a few validation frames: take the middle of the
        # best ones, not the lowest, which would tag anything faintly alike.
        best = torch.nonzero(scores >= scores.max() - 1e-6).flatten()
        chosen[t] = THRESHOLDS[int(best[len(best) // 2])]
    model.tag_thresholds.copy_(chosen.to(device))
    found = f1_scores(probabilities, truth, chosen)
    tags = model.config.tags
    return {tag: {"threshold": round(float(chosen[i]), 2),
                  **{name: round(float(found[name][i]), 4) for name in ("precision", "recall", "f1")},
                  "val_frames": int(truth[:, i].sum())} for i, tag in enumerate(tags)}


def tags_of(model: CaptionNet, features: torch.Tensor) -> list[tuple[str, ...]]:
    """Pooled features (B,C) -> the tags each frame shows, by the per-tag thresholds."""
    probabilities = model.tag_probabilities(features)
    if probabilities is None or model.tag_thresholds is None:
        return [() for _ in range(len(features))]
    said = probabilities >= model.tag_thresholds.to(probabilities.device)
    return [tuple(tag for tag, on in zip(model.config.tags, row.tolist(), strict=True) if on) for row in said]
