"""Fixtures for the mood tests: small synthetic photo sets and the ImageNet weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.backbones import weights_path
from models.mood.config import MoodConfig
from models.mood.data import Sample, load_samples
from models.mood.model import MoodNet, build_model
from models.mood.synth import synthesize

ROOT = Path(__file__).resolve().parents[3]
MODELS_DIR = ROOT / "var" / "models"


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)  # the test machine has two cores, shared


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The models folder holding ImageNet MobileNetV2; skips the test where it is absent."""
    if not weights_path("mobilenet_v2", MODELS_DIR).is_file():
        pytest.skip(f"ImageNet MobileNetV2 weights absent at {weights_path('mobilenet_v2', MODELS_DIR)}"
                    " (run `cradle assets fetch`)")
    return MODELS_DIR


@pytest.fixture(scope="session")
def small_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest of 4 x 12 small faces over 4 sessions."""
    return synthesize(tmp_path_factory.mktemp("faces"), per_class=12, sessions=4, size=72, seed=3)


@pytest.fixture(scope="session")
def small_samples(small_faces: Path) -> list[Sample]:
    return load_samples(small_faces)


@pytest.fixture
def random_model() -> MoodNet:
    """A randomly initialised MobileNetV2 mood model (no weights file needed)."""
    torch.manual_seed(0)
    return build_model(MoodConfig(image_size=64), weights=None)
