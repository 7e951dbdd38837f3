from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from models.transforms import IMAGENET_MEAN, Augment, eval_transform, train_transform

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_eval_transform_is_deterministic_and_normalised() -> None:
    image = Image.new("RGB", (200, 150), tuple(round(255 * m) for m in IMAGENET_MEAN))
    first, second = eval_transform(96)(image), eval_transform(96)(image)
    assert first.shape == (3, 96, 96)
    assert torch.equal(first, second)
    assert first.abs().max() < 0.05  # the ImageNet mean colour maps to about zero


def test_train_transform_augments() -> None:
    image = Image.radial_gradient("L").convert("RGB")
    transform = train_transform(64, Augment(rotation=30, jitter=0.4))
    torch.manual_seed(0)
    outputs = [transform(image) for _ in range(4)]
    assert all(o.shape == (3, 64, 64) for o in outputs)
    assert not torch.equal(outputs[0], outputs[1])


def test_imagenet_statistics_live_in_one_file() -> None:
    holders = [p.name for p in MODELS.rglob("*.py") if "0.229, 0.224" in p.read_text()]
    assert holders == ["transforms.py"]
