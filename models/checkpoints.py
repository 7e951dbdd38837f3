"""Checkpoint files, read and written the same way for every model family.

A checkpoint is one plain dict, saved with `torch.save` and read with `weights_only=True`
(tensors and plain types only, so opening a file cannot run code). Its "format" field
names the family and the layout's version (`cradle.mood/1`); what else it holds beside
the state dict is the family's to say, in its model.py (`save_model`, `load_model`).
Files are written whole and renamed into place, so a reader never sees half a
checkpoint. A model's version names the file's bytes (`version`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from models.files import sha256_file
from models.registry import version_of


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def write(checkpoint: dict[str, Any], path: Path) -> Path:
    """Save `checkpoint` at `path` atomically (through a `.tmp` beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(path)  # a reader never sees half a checkpoint
    return path


def read(path: Path, family: str, checkpoint_format: str) -> dict[str, Any]:
    """The checkpoint dict at `path`, on the CPU; errors say how to make a `family` one
    when there is none, and refuse a file of another format."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no {family} checkpoint at {path}: train one with `cradle {family} "
                                f"train` or build the demo with `cradle {family} demo`")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != checkpoint_format:
        raise ValueError(f"{path} is not a Cradle {family} checkpoint ({checkpoint_format})")
    return checkpoint


def version(path: Path) -> str:
    """A model version that changes whenever the checkpoint's bytes do: a registry
    version's name, else the file's stem and the start of its hash."""
    path = Path(path)
    return version_of(path) or f"{path.stem}-{sha256_file(path)[:10]}"
