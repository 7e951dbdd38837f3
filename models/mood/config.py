"""Hyperparameters of the mood classifier, stored as plain dicts inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from models.mood import MOODS
from models.transforms import Augment


@dataclass(frozen=True)
class MoodConfig:
    """What the network is: enough to rebuild it from a checkpoint."""

    classes: tuple[str, ...] = MOODS  # output order of the logits; any list of names works
    backbone: str = "mobilenet_v2"  # a name known to models.backbones
    image_size: int = 224  # side of the square crop the network sees at serving time
    hidden: int = 0  # width of a hidden layer in the head; 0 means one linear layer
    dropout: float = 0.2  # dropout before the last linear layer

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MoodConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if "classes" in values:
            values["classes"] = tuple(values["classes"])
        return cls(**values)


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained (stored beside MoodConfig so a run can resume)."""

    batch_size: int = 32  # images per optimiser step
    head_epochs: int = 5  # stage 1: backbone frozen, only the head learns
    finetune_epochs: int = 5  # stage 2: backbone unfrozen with discriminative rates (0 skips)
    head_lr: float = 3e-3  # peak learning rate of the head in stage 1
    finetune_lr: float = 3e-4  # peak learning rate of the head in stage 2
    lr_ratio: float = 0.3  # each layer group one step closer to the input gets this factor
    weight_decay: float = 1e-4  # AdamW weight decay
    schedule: Literal["onecycle", "plateau"] = "onecycle"  # per-step one-cycle or plateau
    plateau_patience: int = 1  # epochs without improvement before ReduceLROnPlateau halves
    patience: int = 3  # early stopping: epochs without a better validation loss
    balance: Literal["loss", "sampler", "none"] = "loss"  # how class imbalance is handled
    label_smoothing: float = 0.05  # cross-entropy label smoothing
    augment: Augment | None = field(default_factory=Augment)  # None trains on eval crops
    progressive_sizes: tuple[int, ...] = ()  # stage-2 image sizes, small to large
    cache_features: bool = False  # stage 1 on backbone features computed once (no aug)
    train_batchnorm: bool = False  # let BatchNorm statistics move in stage 2
    amp: bool = True  # mixed precision, used only on CUDA
    channels_last: bool = True  # channels-last memory layout, used only on CUDA
    num_workers: int = 0  # DataLoader worker processes
    seed: int = 0  # seeds shuffling, augmentation and head initialisation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if values.get("augment") is not None:
            values["augment"] = Augment(**values["augment"])
        if "progressive_sizes" in values:
            values["progressive_sizes"] = tuple(values["progressive_sizes"])
        return cls(**values)
