"""Image transforms shared by training and serving, with ImageNet statistics in one place.

Training augments (random resized crop, rotation, colour jitter, horizontal flip);
evaluation and serving resize, centre-crop and normalise only, so a frame is seen at
serving time exactly as validation images were seen during training.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def eval_transform(size: int) -> T.Compose:
    """PIL image -> resized, centre-cropped, normalised (3,size,size) tensor."""
    return T.Compose(
        [T.Resize(round(size * RESIZE_RATIO)), T.CenterCrop(size), T.ToTensor(), normalize()]
    )
