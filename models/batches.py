"""Frames decoded and sent through a network in batches, the same for every model.

The mood predictor, the captioner and the vision worker's shared pass all take the
frames that arrived together: each batch of decodable frames goes through the network
in one forward pass, and a frame that cannot be decoded gets a failure saying why
instead of failing the whole batch. Results come back one per frame, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

import torch
from PIL import Image

from models.images import DataError, open_rgb

Result = TypeVar("Result")
Failure = TypeVar("Failure")


class DecodedFrames(NamedTuple):
    images: torch.Tensor | None  # (N,3,S,S) the frames that decoded, on the CPU; None: none did
    rows: list[int]  # the row, among the paths asked for, that each image came from
    errors: dict[int, str]  # row -> why that frame could not be decoded


def decode(paths: Sequence[Path], transform: Callable[[Image.Image], torch.Tensor]) -> DecodedFrames:
    """Decode and transform frames; an undecodable one is left out and says why."""
    tensors, rows, errors = [], [], {}
    for row, path in enumerate(paths):
        try:
            tensors.append(transform(open_rgb(path)))  # (3,S,S)
            rows.append(row)
        except DataError as exc:
            errors[row] = str(exc)
    return DecodedFrames(torch.stack(tensors) if tensors else None, rows, errors)  # (N,3,S,S)


def in_batches(
    paths: Sequence[Path | str], max_batch: int, transform: Callable[[Image.Image], torch.Tensor],
    forward: Callable[[torch.Tensor, list[Path]], Sequence[Result]],
    failed: Callable[[Path, str], Failure],
) -> list[Result | Failure]:
    """One result per path, in order. Up to `max_batch` frames at a time are decoded
    with `transform` and the decodable ones go through `forward(images (N,3,S,S), their
    paths)` together, which gives one result per image; each other frame gets
    `failed(path, error)`."""
    results: list[Result | Failure] = []
    for first in range(0, len(paths), max_batch):
        chunk = [Path(p) for p in paths[first:first + max_batch]]
        images, rows, errors = decode(chunk, transform)
        done = {} if images is None else dict(
            zip(rows, forward(images, [chunk[r] for r in rows]), strict=True))
        results += [done[row] if row in done else failed(path, errors[row])
                    for row, path in enumerate(chunk)]
    return results
