"""Real weights, real speech and real programs for the speech tests; each fixture stops the
test, saying why, when what it needs is absent (tests/conftest.py: `require`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.speech import SpeechModel, load_model
from models.speech.tts import PIPER_VOICE, PiperEngine, Speaker
from tests.conftest import require
from tests.models.speech.samples import ALSA, MODELS_DIR, THREADS


def needs(path: Path, why: str) -> Path:
    require(path.exists(), f"{path} is missing: {why}")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    needs(MODELS_DIR / "whisper/tiny.en-ct2/model.bin", "run `cradle assets fetch`")
    return MODELS_DIR


@pytest.fixture(scope="session")
def alsa() -> Path:
    needs(ALSA / "Front_Center.wav", "install the Debian package alsa-utils")
    return ALSA


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    program = shutil.which("ffmpeg")
    require(program is not None, "the ffmpeg program is missing: install the Debian package ffmpeg")
    return program


@pytest.fixture(scope="session")
def faster_tiny(models_dir: Path) -> SpeechModel:
    return load_model("tiny.en", "cpu", "faster", models_dir, threads=THREADS)


@pytest.fixture(scope="session")
def openai_tiny(models_dir: Path) -> SpeechModel:
    # Converts the CTranslate2 weights on first use and keeps the checkpoint beside them.
    return load_model("tiny.en", "cpu", "openai", models_dir, threads=THREADS)


@pytest.fixture(scope="session")
def piper_speaker(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Speaker:
    voice = needs(models_dir / PIPER_VOICE, "run `cradle assets fetch`")
    # Without Piper's sampling noise the same text gives the same audio, so ASR results on it
    # do not change from run to run.
    engine = PiperEngine(voice, noise_scale=0.0, noise_w_scale=0.0)
    return Speaker(engine, "wav", tmp_path_factory.mktemp("tts-cache"))
