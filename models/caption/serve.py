"""Serving: a caption checkpoint loaded once; frames, or feature maps, in; captions out.

When mood and caption use the same frozen backbone weights at the same image size
(`shares_backbone`), the vision worker runs the backbone once per batch and hands the
feature map to `describe_features`; otherwise `describe_paths` runs its own pass. Each
caption carries the frame's novelty against the images the captioner was trained on,
scored on the same feature map (models/familiarity.py), and the scene tags its scene
head sees, when it has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from models.batches import in_batches
from models.caption.decoding import Decoded, decode
from models.caption.model import load_model
from models.caption.tagging import tags_of
from models.checkpoints import default_device
from models.familiarity import pooled
from models.transforms import eval_transform


@dataclass(frozen=True)
class Caption:
    text: str
    log_prob: float  # sequence log-probability, <end> included
    confidence: float  # geometric-mean word probability: the safety rules' score
    model_version: str
    path: Path | None = None
    novelty: float | None = None  # distance to the training images; None: the model has no statistics
    familiar: bool = False  # novelty within the threshold set at training time
    tags: tuple[str, ...] = ()  # scene tags the scene head sees (none without a head)


@dataclass(frozen=True)
class CaptionFailure:
    path: Path
    error: str  # what was wrong with the frame, for the FrameFailed event


class Captioner:
    """Loads a caption checkpoint once; turns frames or shared feature maps into captions."""

    def __init__(self, checkpoint: Path, device: torch.device | str | None = None, *,
                 weights_dir: Path | None = None, beam_size: int = 3, length_penalty: float = 0.0,
                 max_batch: int = 32) -> None:
        self.device = torch.device(device) if device else default_device()
        self.model = load_model(checkpoint, self.device, weights_dir=weights_dir)
        self.version = self.model.version
        self.image_size = self.model.config.image_size
        self.transform = eval_transform(self.image_size)
        self.beam_size, self.length_penalty, self.max_batch = beam_size, length_penalty, max_batch

    def shares_backbone(self, backbone: nn.Module, image_size: int) -> bool:
        """Whether `backbone` (e.g. the mood model's) computes exactly our feature maps:
        our backbone is frozen, the crop size matches and every weight is equal."""
        if not self.model.config.freeze_backbone or image_size != self.image_size:
            return False
        ours, theirs = self.model.backbone.state_dict(), backbone.state_dict()
        return ours.keys() == theirs.keys() and all(
            torch.equal(ours[k].cpu(), theirs[k].cpu()) for k in ours)

    def _captions(self, decoded: list[Decoded], paths: Sequence[Path | None],
                  features: torch.Tensor) -> list[Caption]:
        """Decoded words and the frames' pooled features (B,C) -> captions with novelty and tags."""
        known = self.model.familiarity
        scores: list[float | None] = (known.scores(features).tolist() if known is not None
                                      else [None] * len(decoded))
        tags = tags_of(self.model, features.to(self.device))
        return [Caption(d.text, d.log_prob, d.confidence, self.version, p, n,
                        known is not None and n is not None and known.familiar(n), t)
                for d, p, n, t in zip(decoded, paths, scores, tags, strict=True)]

    @torch.inference_mode()
    def describe_features(self, feature_map: torch.Tensor,
                          paths: Sequence[Path | None] | None = None) -> list[Caption]:
        """Backbone feature maps (B,C,h,w), from a shared pass -> one caption per frame."""
        with torch.autocast(self.device.type, enabled=self.device.type == "cuda"):
            encoded = self.model.caption_features(feature_map.to(self.device))
            decoded = decode(self.model, encoded, self.beam_size, self.length_penalty)
        return self._captions(decoded, paths or [None] * len(decoded), pooled(feature_map))

    @torch.inference_mode()
    def describe_images(self, images: torch.Tensor,
                        paths: Sequence[Path | None] | None = None) -> list[Caption]:
        """Normalised images (B,3,S,S) from `self.transform` -> one caption per frame."""
        with torch.autocast(self.device.type, enabled=self.device.type == "cuda"):
            feature_map = self.model.backbone(images.to(self.device))  # (B,C,h,w)
        return self.describe_features(feature_map, paths)

    def describe_paths(self, paths: Sequence[Path | str]) -> list[Caption | CaptionFailure]:
        """One result per path, in order; an undecodable frame gets a CaptionFailure
        (models/batches.py)."""
        return in_batches(paths, self.max_batch, self.transform, self.describe_images, CaptionFailure)
