"""Familiarity: whether a frame looks like what a model was trained on.

A classifier's softmax says how sure it is among the classes it knows, never whether the
picture belongs to any of them: the demo mood model gives 0.95 to "feed" for a photo of
a dog. So every vision checkpoint also carries the pooled backbone features of its
training frames, and a frame is scored by its distance to them.

The score is the deep k-nearest-neighbour distance of Sun et al., "Out-of-Distribution
Detection with Deep Nearest Neighbors" (ICML 2022): features are L2-normalised and the
score is the cosine distance to the k-th nearest training feature (0: seen before;
higher: further from anything taught). Chosen over class-conditional Gaussians with a
shared covariance (Lee et al., 2018, Mahalanobis) because
  - it needs no classes: the captioner has none, and one method serves both models;
  - it assumes no shape: nursery frames cluster by room, scene and light, not in one
    Gaussian per mood;
  - a family teaches with hundreds of frames of 1280 features, where a covariance has
    to be shrunk before it can be inverted, and the shrinkage becomes a second knob;
  - scoring is one (B,C)x(C,N) product against at most `max_bank` stored features.
`python -m bench familiarity` measures it beside Mahalanobis and the softmax baseline.

The threshold is the `percentile` of the scores of held-out in-distribution frames:
the training run's validation split, which the bank never contains, and each training
session scored against the bank without it (so a threshold set on two validation days
is not tighter than a third new day needs). It is set once at training time and stored
with the checkpoint; nothing is tuned on test photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

METHOD = "knn-cosine"


@dataclass(frozen=True)
class FamiliarityConfig:
    k: int = 10  # the neighbour whose distance is the score (one near-duplicate vouches for nothing)
    percentile: float = 99.0  # share (%) of held-out training-like frames that must come out familiar
    max_bank: int = 2048  # training features kept; a seeded sample beyond this (bounds cost and size)
    seed: int = 0  # which sample of the training features is kept


class Familiarity:
    """The training features of one model and the threshold set on its held-out frames."""

    def __init__(self, bank: torch.Tensor, k: int, threshold: float, percentile: float,
                 held_out: int, calibration: str = "held-out") -> None:
        self.bank = F.normalize(bank.float(), dim=1)  # (N,C), unit rows
        self.k = max(1, min(k, len(bank)))
        self.threshold = float(threshold)
        self.percentile = float(percentile)
        self.held_out = held_out  # frames the threshold was set on
        self.calibration = calibration  # which held-out frames set the threshold (see `fit`)

    def to(self, device: torch.device | str) -> Familiarity:
        self.bank = self.bank.to(device)
        return self

    @torch.inference_mode()
    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled features (B,C) -> novelty (B,): cosine distance to the k-th nearest
        training feature, on the CPU."""
        query = F.normalize(features.to(self.bank.device, self.bank.dtype), dim=1)  # (B,C)
        similarity = query @ self.bank.T  # (B,N)
        kth = similarity.topk(self.k, dim=1).values[:, -1]  # (B,)
        return (1 - kth).float().cpu()

    def familiar(self, novelty: float) -> bool:
        return novelty <= self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain types and one tensor: loadable with `weights_only=True`."""
        return {"method": METHOD, "bank": self.bank.detach().cpu().half(), "k": self.k,
                "threshold": self.threshold, "percentile": self.percentile,
                "held_out": self.held_out, "calibration": self.calibration}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Familiarity:
        if raw.get("method") != METHOD:
            raise ValueError(f"unknown familiarity method {raw.get('method')!r}; this Cradle reads {METHOD}")
        return cls(raw["bank"], int(raw["k"]), float(raw["threshold"]), float(raw["percentile"]),
                   int(raw["held_out"]), str(raw.get("calibration", "held-out")))

    def describe(self) -> dict[str, Any]:
        """What a person reads in a model's metrics (no bank)."""
        return {"method": METHOD, "k": self.k, "threshold": round(self.threshold, 4),
                "percentile": self.percentile, "bank": len(self.bank), "held_out": self.held_out,
                "calibration": self.calibration}


def pooled(feature_map: torch.Tensor) -> torch.Tensor:
    """A backbone feature map (B,C,h,w) -> its global average (B,C), in float32."""
    return feature_map.float().mean(dim=(2, 3))


def fit(train: torch.Tensor, held_out: torch.Tensor, config: FamiliarityConfig = FamiliarityConfig(),
        groups: Sequence[str] | None = None) -> Familiarity:
    """Training features (N,C) become the bank; the threshold is the `percentile` of the
    scores of held-out frames: the held-out features (M,C) against the bank and, when
    the training frames' `groups` (sessions, days) are given and there are at least
    three, each group's frames against the bank without that group (leave one group
    out), so that a few validation days do not make the threshold tighter than a new day
    needs. With neither, each bank feature is scored against the others (leave one out),
    which is optimistic and recorded as such."""
    if len(train) == 0:
        raise ValueError("familiarity needs the features of at least one training frame")
    model = Familiarity(_sample(train.float(), config), config.k, 0.0, config.percentile, len(held_out))
    scored = [model.scores(held_out)] if len(held_out) else []
    if groups is not None and len(set(groups)) >= 3:
        scored.append(_leave_group_out(train.float(), list(groups), config))
        model.calibration = "held-out and leave-one-group-out" if len(held_out) else "leave-one-group-out"
    if scored:
        scores = torch.cat(scored)
    elif len(model.bank) > 1:
        model.calibration = "leave-one-out"
        scores = _leave_one_out(model)
    else:
        model.calibration = "leave-one-out"
        scores = torch.zeros(1)
    model.held_out = len(scores)
    model.threshold = float(torch.quantile(scores, config.percentile / 100))
    return model


def _sample(bank: torch.Tensor, config: FamiliarityConfig) -> torch.Tensor:
    if len(bank) <= config.max_bank:
        return bank
    keep = torch.randperm(len(bank), generator=torch.Generator().manual_seed(config.seed))
    return bank[keep[:config.max_bank]]


def _leave_group_out(train: torch.Tensor, groups: list[str], config: FamiliarityConfig) -> torch.Tensor:
    """Each group's frames scored against a bank of the other groups' frames."""
    names = sorted(set(groups))
    member = torch.tensor([names.index(g) for g in groups])
    scores = []
    for index in range(len(names)):
        inside = member == index
        others = Familiarity(_sample(train[~inside], config), config.k, 0.0, config.percentile, 0)
        scores.append(others.scores(train[inside]))
    return torch.cat(scores)


def _leave_one_out(model: Familiarity) -> torch.Tensor:
    similarity = model.bank @ model.bank.T  # (N,N)
    similarity.fill_diagonal_(-2.0)  # never one's own neighbour
    k = min(model.k, len(model.bank) - 1)
    return 1 - similarity.topk(k, dim=1).values[:, -1]


def read(checkpoint: dict[str, Any], device: torch.device | str | None = None) -> Familiarity | None:
    """The familiarity stored in a checkpoint dict (on `device` when given), or None for
    one trained before it existed."""
    raw = checkpoint.get("familiarity")
    if not raw:
        return None
    known = Familiarity.from_dict(raw)
    return known.to(device) if device is not None else known


def share_familiar(model: Familiarity, features: torch.Tensor) -> float:
    """Share of frames (N,C) the model calls familiar."""
    if len(features) == 0:
        return float("nan")
    return float((model.scores(features) <= model.threshold).float().mean())
