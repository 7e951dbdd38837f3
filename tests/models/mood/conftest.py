"""Fixtures for the mood tests: small synthetic photo sets (the ImageNet weights:
tests/models/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.mood.config import MoodConfig
from models.mood.data import Sample, load_samples
from models.mood.model import MoodNet, build_model
from models.mood.synth import synthesize


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)  # the test machine has two cores, shared


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
