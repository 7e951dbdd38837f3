"""Hyperparameters of the captioner, stored as plain dicts inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal


def _known(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    """The entries of `raw` that are fields of `cls` (older checkpoints may have others)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


@dataclass(frozen=True)
class CaptionConfig:
    """What the network is: enough to rebuild it from a checkpoint."""

    backbone: str = "mobilenet_v2"  # a name known to models.backbones
    image_size: int = 160  # side of the square crop the encoder sees (same as mood to share)
    freeze_backbone: bool = True  # keep ImageNet weights (lets mood and caption share a pass)
    embed_size: int = 128  # word embedding and projected image feature width
    hidden_size: int = 256  # LSTM hidden state width
    num_layers: int = 1  # stacked LSTM layers
    dropout: float = 0.3  # before the output layer (and between LSTM layers)
    attention: bool = False  # soft attention over spatial features (Show, Attend and Tell)
    attention_size: int = 128  # width of the additive attention's hidden layer
    max_length: int = 20  # longest caption decoded, in words (without <start>/<end>)
    tags: tuple[str, ...] = ()  # scene tags of a multi-label head on the pooled features (none: no head)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CaptionConfig:
        values = _known(cls, raw)
        if "tags" in values:
            values["tags"] = tuple(values["tags"])
        return cls(**values)


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained (stored beside CaptionConfig so a run can resume)."""

    epochs: int = 30  # most passes over the training captions
    batch_size: int = 64  # (image, caption) pairs per optimiser step
    lr: float = 3e-3  # peak learning rate of the one-cycle schedule
    backbone_lr: float = 1e-4  # peak rate of the backbone when it is fine-tuned
    weight_decay: float = 1e-4  # AdamW weight decay
    clip_norm: float = 5.0  # gradient norm clipping
    label_smoothing: float = 0.0  # cross-entropy label smoothing (0 turns it off)
    patience: int = 5  # early stopping: epochs without a better validation BLEU-4
    min_word_count: int = 2  # words seen fewer times in training become <unk>
    cache_features: bool = True  # compute frozen backbone features once (frozen only)
    val_fraction: float = 0.15  # share of images (sessions) held out for validation
    test_fraction: float = 0.15  # share of images (sessions) held out for the final test
    split_by: Literal["session", "image"] = "session"  # unit that never straddles a split
    amp: bool = True  # mixed precision, used only on CUDA
    num_workers: int = 0  # DataLoader worker processes (image mode only)
    seed: int = 0  # seeds the split, shuffling and initialisation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        return cls(**_known(cls, raw))
