"""What every model test may need: the models folder holding the ImageNet MobileNetV2
weights that `make setup` fetches."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.backbones import weights_path
from tests.conftest import ROOT, require

MODELS_DIR = ROOT / "var" / "models"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The models folder holding ImageNet MobileNetV2 (tests/conftest.py: `require`)."""
    path = weights_path("mobilenet_v2", MODELS_DIR)
    require(path.is_file(), f"ImageNet MobileNetV2 weights absent at {path} (run `cradle assets fetch`)")
    return MODELS_DIR
