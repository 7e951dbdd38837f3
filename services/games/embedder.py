"""Sentence embeddings from the offline all-MiniLM-L6-v2, loaded once per process."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder:
    """Turns sentences into unit-length vectors, so a dot product is a cosine."""

    def __init__(self, path: Path) -> None:
        if not (path / "modules.json").exists():
            raise FileNotFoundError(f"no MiniLM model at {path}; run `cradle assets fetch`")
        self.path = path
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    def encode(self, texts: list[str]) -> Vectors:
        vectors = self._load().encode(texts, batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@lru_cache(maxsize=4)
def embedder_at(path: Path) -> Embedder:
    """The process's one embedder for a model folder."""
    return Embedder(path)
