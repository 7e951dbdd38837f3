"""Fixtures for the caption tests: synthetic scenes and one captioner trained on them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from models.caption.config import CaptionConfig, TrainConfig
from models.caption.model import CaptionNet, build_model, load_model
from models.caption.training import TrainArgs, main
from models.caption.vocab import Vocab
from models.scenes import synthesize

SENTENCES = ["the baby is sleeping in the cot", "a baby is crawling near the stairs",
             "the baby is standing at the window", "the cot is empty"]


@dataclass(frozen=True)
class TrainedRun:
    captions_csv: Path
    out_dir: Path
    metrics: dict[str, Any]
    model: CaptionNet
    split: dict[str, list[dict[str, Any]]]
    args: TrainArgs


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)  # the test machine has two cores, shared


@pytest.fixture(scope="session")
def small_vocab() -> Vocab:
    return Vocab.build(SENTENCES, min_count=1)


@pytest.fixture
def random_model(small_vocab: Vocab, request: pytest.FixtureRequest) -> CaptionNet:
    """An untrained captioner on a random MobileNetV2 (no weights file needed)."""
    torch.manual_seed(0)
    attention = getattr(request, "param", False)
    return build_model(CaptionConfig(image_size=64, attention=attention, num_layers=2), small_vocab,
                       weights=None).eval()


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TrainedRun:
    """One short CPU training run on synthetic scenes (held out by room), shared by the tests."""
    root = tmp_path_factory.mktemp("caption")
    captions_csv = synthesize(root / "scenes", images=840, sessions=40, size=144, seed=11)
    args = TrainArgs(data=captions_csv, out_dir=root / "run", model=CaptionConfig(image_size=128),
                     train=TrainConfig(epochs=14, patience=4, test_fraction=0.2, seed=1),
                     weights_dir=models_dir, resume=False, device="cpu")
    metrics = main(args)
    model = load_model(root / "run" / "best.pt", "cpu", weights_dir=models_dir)
    split = json.loads((root / "run" / "split.json").read_text())
    return TrainedRun(captions_csv, root / "run", metrics, model, split, args)
