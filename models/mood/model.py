"""The mood network: an ImageNet backbone and a small head that produces class logits.

A checkpoint is a plain dict (loadable with `weights_only=True`): the MoodConfig as a
dict, the state dict, the familiarity statistics of its training frames
(models/familiarity.py), and optionally the TrainConfig and metrics. A head-only
checkpoint keeps just the head and rebuilds the untouched ImageNet backbone from the
models folder, which is how the demo model ships. Writing, reading and naming the file
are models/checkpoints.py's, the same for every family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from models import checkpoints, familiarity
from models.backbones import Backbone, Weights, load_backbone
from models.familiarity import Familiarity
from models.mood.config import MoodConfig, TrainConfig

CHECKPOINT_FORMAT = "cradle.mood/1"


class MoodNet(nn.Module):
    def __init__(self, config: MoodConfig, backbone: Backbone) -> None:
        super().__init__()
        self.config = config
        self.backbone = backbone.features
        self.layer_groups = backbone.layer_groups  # the same modules, input -> output
        self.pool = nn.AdaptiveAvgPool2d(1)
        width, classes = backbone.out_channels, len(config.classes)
        if config.hidden:
            self.head: nn.Module = nn.Sequential(
                nn.Linear(width, config.hidden), nn.ReLU(inplace=True),
                nn.Dropout(config.dropout), nn.Linear(config.hidden, classes),
            )
        else:
            self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(width, classes))
        self.frozen_batchnorm = True  # BatchNorm keeps its ImageNet statistics when True
        self.version = "untrained"  # set by load_model from the checkpoint file
        self.familiarity: Familiarity | None = None  # set by training; None: nothing is familiar

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        features = self.backbone(images)  # (B,3,H,W) -> (B,C,h,w)
        return self.pool(features).flatten(1)  # (B,C,h,w) -> (B,C)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(images))  # (B,C) -> (B,K) logits

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised images (B,3,H,W) -> probabilities (B,K); each row sums to 1."""
        self.eval()
        return self(images).float().softmax(dim=1)  # over classes, never over the batch

    @torch.inference_mode()
    def predict_pooled(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features (B,C), e.g. from a pass shared with the captioner ->
        probabilities (B,K)."""
        if self.training:  # served models are already in eval mode: no walk over every module
            self.eval()
        dtype = next(self.head.parameters()).dtype
        return self.head(features.to(dtype)).float().softmax(dim=1)  # (B,K)

    def train(self, mode: bool = True) -> MoodNet:
        super().train(mode)
        if mode and self.frozen_batchnorm:
            for module in self.backbone.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def param_groups(self) -> list[nn.Module]:
        """Modules that get their own learning rate, input -> output (head last)."""
        return [*self.layer_groups, self.head]


def build_model(
    config: MoodConfig, weights: Weights = "imagenet", *, weights_dir: Path | None = None
) -> MoodNet:
    return MoodNet(config, load_backbone(config.backbone, weights, weights_dir=weights_dir))


def save_model(
    model: MoodNet,
    path: Path,
    *,
    train: TrainConfig | None = None,
    metrics: dict[str, Any] | None = None,
    head_only: bool = False,
) -> Path:
    """Write a checkpoint; `head_only` when the backbone still holds its ImageNet weights."""
    state = model.state_dict()
    if head_only:
        state = {k: v for k, v in state.items() if k.startswith("head.")}
    return checkpoints.write({
        "format": CHECKPOINT_FORMAT,
        "config": model.config.to_dict(),
        "train": train.to_dict() if train else None,
        "metrics": metrics or {},
        "head_only": head_only,
        "state_dict": {k: v.detach().cpu() for k, v in state.items()},
        "familiarity": model.familiarity.to_dict() if model.familiarity else None,
    }, path)


def load_model(
    path: Path, device: torch.device | str | None = None, *, weights_dir: Path | None = None
) -> MoodNet:
    """Rebuild the network a checkpoint describes, in eval mode on `device`.

    `weights_dir` is the models folder holding ImageNet backbones; only head-only
    checkpoints need it."""
    checkpoint = checkpoints.read(path, "mood", CHECKPOINT_FORMAT)
    config = MoodConfig.from_dict(checkpoint["config"])
    head_only = bool(checkpoint.get("head_only"))
    model = build_model(config, "imagenet" if head_only else None, weights_dir=weights_dir)
    model.load_state_dict(checkpoint["state_dict"], strict=not head_only)
    model.version = checkpoints.version(path)
    device = device or checkpoints.default_device()
    model.familiarity = familiarity.read(checkpoint, device)
    return model.to(device).eval()
