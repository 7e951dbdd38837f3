"""Image transforms shared by training and serving, with ImageNet statistics in one place.

Training augments (random resized crop, rotation, colour jitter, horizontal flip);
evaluation and serving resize, centre-crop and normalise only, so a frame is seen at
serving time exactly as validation images were seen during training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision import transforms as T

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE_RATIO = 256 / 224  # resize to this much more than the crop, as ImageNet training did


@dataclass(frozen=True)
class Augment:
    min_scale: float = 0.6  # smallest area fraction kept by the random resized crop
    rotation: float = 15.0  # largest rotation in degrees, either way
    jitter: float = 0.3  # brightness/contrast/saturation jitter strength (0 turns it off)
    hue: float = 0.03  # hue jitter (kept small: skin tone carries meaning)
    hflip: bool = True  # mirror half the images left-right


def normalize() -> T.Normalize:
    return T.Normalize(IMAGENET_MEAN, IMAGENET_STD)


def train_transform(size: int, augment: Augment | None = None) -> T.Compose:
    """PIL image -> augmented, normalised (3,size,size) tensor."""
    aug = augment or Augment()
    steps: list[object] = [T.RandomResizedCrop(size, scale=(aug.min_scale, 1.0))]
    if aug.rotation:
        steps.append(T.RandomRotation(aug.rotation))
    if aug.jitter or aug.hue:
        steps.append(T.ColorJitter(aug.jitter, aug.jitter, aug.jitter, aug.hue))
    if aug.hflip:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose([*steps, T.ToTensor(), normalize()])


def eval_crop(size: int) -> T.Compose:
    """PIL image -> resized and centre-cropped (size,size) PIL image: the geometry of
    `eval_transform`."""
    return T.Compose([T.Resize(round(size * RESIZE_RATIO)), T.CenterCrop(size)])


def eval_transform(size: int) -> T.Compose:
    """PIL image -> resized, centre-cropped, normalised (3,size,size) tensor."""
    return T.Compose([*eval_crop(size).transforms, T.ToTensor(), normalize()])


def normalize_pixels(pixels: torch.Tensor) -> torch.Tensor:
    """A batch of crops as bytes (N,S,S,3) uint8 -> normalised (N,3,S,S) float32 in
    channels-last memory: what `eval_transform` makes of each crop, in a few operations
    over the whole batch instead of four small ones per frame (each of which costs
    threads' start-up on a busy CPU)."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    images = pixels.permute(0, 3, 1, 2).float().div_(255)  # (N,S,S,3) -> (N,3,S,S), channels-last strides
    return images.sub_(mean).div_(std)
