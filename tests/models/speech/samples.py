"""The real recordings the speech tests use, and small helpers to make audio."""

from __future__ import annotations

import io
import os
import subprocess
import wave
from pathlib import Path

import numpy as np

from models.speech.audio import SAMPLE_RATE, AudioLimits, decode_audio

ROOT = Path(__file__).resolve().parents[3]
# Read once at import: the root conftest clears CRADLE_* variables around each test.
MODELS_DIR = Path(os.environ.get("CRADLE_MODELS__DIR", ROOT / "var" / "models")).resolve()
ALSA = Path("/usr/share/sounds/alsa")
# The ALSA speaker-test samples: file name = what is said (Noise.wav is pink noise).
ALSA_WORDS = {
    "Front_Center": "front center",
    "Front_Left": "front left",
    "Front_Right": "front right",
    "Rear_Center": "rear center",
    "Rear_Left": "rear left",
    "Rear_Right": "rear right",
    "Side_Left": "side left",
    "Side_Right": "side right",
}
# The family vocabulary a household would put in the initial prompt; here, the channel words
# (without it tiny.en hears "Rear right" as "We're right").
ALSA_PROMPT = "Front, rear, side, center, left, right."
THREADS = 2  # this machine's cores; never oversubscribe them in tests


def encode(ffmpeg: str, source: Path, target: Path, *codec: str) -> bytes:
    """`source` re-encoded by the ffmpeg program into `target`'s format."""
    command = [ffmpeg, "-v", "error", "-y", "-i", str(source), *codec, str(target)]
    subprocess.run(command, check=True)
    return target.read_bytes()


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono wav of float samples in [-1, 1]."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def alsa_samples(name: str) -> np.ndarray:
    """The ALSA recording `name` decoded to 16 kHz mono float32."""
    return decode_audio((ALSA / f"{name}.wav").read_bytes(), AudioLimits())
