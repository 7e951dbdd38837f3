"""Where each Whisper model lies under the models folder, for each backend.

The CTranslate2 folders are laid out by `cradle assets fetch` (services/assets.py names
the same folders). The openai-whisper checkpoint is converted from the CTranslate2
model once, on first use, and kept beside it as `<name>-openai.pt`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from models.speech.convert import convert

Backend = Literal["openai", "faster"]
BACKENDS: tuple[Backend, ...] = ("openai", "faster")

# Model name -> CTranslate2 folder under the models folder (mirrors services/assets.py).
WHISPER_FOLDERS = {
    "tiny.en": "whisper/tiny.en-ct2",
    "base": "whisper/base-ct2",
}


class ModelNotFound(FileNotFoundError):
    """No local weights for the requested model; nothing is ever downloaded."""


def ct2_folder(models_dir: Path, name: str) -> Path:
    """The CTranslate2 folder of model `name`, checked to hold a model.bin."""
    if name not in WHISPER_FOLDERS:
        known = ", ".join(WHISPER_FOLDERS)
        raise ModelNotFound(f"unknown Whisper model {name!r}; known: {known}, or pass a path")
    folder = models_dir / WHISPER_FOLDERS[name]
    if not (folder / "model.bin").is_file():
        raise ModelNotFound(f"{folder} holds no model.bin: run `cradle assets fetch`")
    return folder


def openai_checkpoint(models_dir: Path, name: str) -> Path:
    """The openai-whisper checkpoint of `name`, converting it first if missing or stale."""
    source = ct2_folder(models_dir, name)
    checkpoint = source.parent / f"{name}-openai.pt"
    stale = not checkpoint.is_file() or checkpoint.stat().st_mtime < (source / "model.bin").stat().st_mtime
    if stale:
        convert(source, checkpoint)
    return checkpoint


def resolve_model(models_dir: Path, name: str, backend: Backend) -> Path:
    """The local path `load_model` takes for model `name` on `backend`."""
    if backend == "faster":
        return ct2_folder(models_dir, name)
    if backend == "openai":
        return openai_checkpoint(models_dir, name)
    raise ValueError(f"unknown speech backend {backend!r}; choose one of {', '.join(BACKENDS)}")
