"""Decoding uploads: every browser/phone format, the limits, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.speech.audio import (
    SAMPLE_RATE,
    AudioError,
    AudioLimits,
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    UnsupportedAudio,
    decode_audio,
    trim_silence,
)
from tests.models.speech.samples import alsa_samples, encode, wav_bytes

LIMITS = AudioLimits(max_bytes=1 << 20, max_seconds=30)
FORMATS = {
    "webm": ("-c:a", "libopus"),  # what Chrome and Firefox record
    "ogg": ("-c:a", "libopus"),
    "mp3": (),
    "m4a": ("-c:a", "aac"),  # what iPhones record
    "flac": (),
}


@pytest.mark.parametrize("suffix", FORMATS)
def test_common_formats_decode_to_16k_mono(suffix: str, alsa: Path, ffmpeg: str, tmp_path: Path) -> None:
    source = alsa / "Front_Center.wav"  # 48 kHz stereo
    reference = alsa_samples("Front_Center")
    data = encode(ffmpeg, source, tmp_path / f"clip.{suffix}", *FORMATS[suffix])

    samples = decode_audio(data, LIMITS)

    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - reference.size) < 0.05 * SAMPLE_RATE  # codec padding only
    assert 0.1 < float(np.abs(samples).max()) <= 1.0
    # Same sound: the loudness envelope (100 ms windows) follows the original closely.
    n = min(samples.size, reference.size) // 1600 * 1600
    envelope = np.abs(samples[:n]).reshape(-1, 1600).mean(axis=1)
    expected = np.abs(reference[:n]).reshape(-1, 1600).mean(axis=1)
    assert np.corrcoef(envelope, expected)[0, 1] > 0.95


def test_wav_at_another_rate_is_resampled() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32) * 0.5
    samples = decode_audio(wav_bytes(tone, rate=8000), LIMITS)
    assert samples.size == pytest.approx(SAMPLE_RATE, abs=64)  # one second either way


def test_empty_upload() -> None:
    with pytest.raises(EmptyAudio, match="empty"):
        decode_audio(b"", LIMITS)


def test_wav_with_a_header_and_no_samples(alsa: Path) -> None:
    with pytest.raises(EmptyAudio):
        decode_audio((alsa / "Front_Center.wav").read_bytes()[:44], LIMITS)


def test_oversized_upload_is_refused_before_decoding() -> None:
    with pytest.raises(AudioTooLarge, match="limit is 1000 bytes"):
        decode_audio(b"\0" * 1001, AudioLimits(max_bytes=1000, max_seconds=30))


def test_too_long_by_header(alsa: Path) -> None:
    data = (alsa / "Front_Center.wav").read_bytes()  # 1.43 s
    with pytest.raises(AudioTooLong, match="limit is 1 s"):
        decode_audio(data, AudioLimits(max_bytes=1 << 20, max_seconds=1.0))


def test_too_long_while_decoding_a_stream_without_duration(alsa: Path, ffmpeg: str, tmp_path: Path) -> None:
    # MediaRecorder's webm, like ffmpeg's piped webm, carries no duration in its header.
    import subprocess

    command = [ffmpeg, "-v", "error", "-i", str(alsa / "Front_Center.wav")]
    command += ["-c:a", "libopus", "-f", "webm", "pipe:1"]
    data = subprocess.run(command, capture_output=True, check=True).stdout
    assert decode_audio(data, LIMITS).size > SAMPLE_RATE
    with pytest.raises(AudioTooLong):
        decode_audio(data, AudioLimits(max_bytes=1 << 20, max_seconds=1.0))


def test_text_is_not_audio() -> None:
    with pytest.raises(UnsupportedAudio, match="not a recognised audio file"):
        decode_audio(b"caregiver notes: nap at 2pm\n" * 40, LIMITS)


def test_an_image_has_no_audio_track(ffmpeg: str, tmp_path: Path) -> None:
    import subprocess

    image = tmp_path / "cot.png"
    command = [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=1"]
    subprocess.run([*command, "-frames:v", "1", str(image)], check=True)
    with pytest.raises(UnsupportedAudio, match="no audio track"):
        decode_audio(image.read_bytes(), LIMITS)


def test_damaged_mp3_is_corrupt(alsa: Path, ffmpeg: str, tmp_path: Path) -> None:
    data = encode(ffmpeg, alsa / "Front_Center.wav", tmp_path / "clip.mp3")
    garbage = np.random.default_rng(1).bytes(3000)
    with pytest.raises(CorruptAudio, match="damaged"):
        decode_audio(data[:1000] + garbage + data[4000:], LIMITS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        samples = decode_audio(data, LIMITS)
    except AudioError:
        return  # the only acceptable failure: a clear, mappable error
    assert samples.dtype == np.float32


def test_trim_silence_keeps_the_speech_and_drops_the_rest() -> None:
    speech = alsa_samples("Side_Left")
    silence = np.zeros(2 * SAMPLE_RATE, np.float32)
    trimmed = trim_silence(np.concatenate([silence, speech, silence]))
    assert speech.size * 0.6 < trimmed.size < speech.size + 0.5 * SAMPLE_RATE


@pytest.mark.parametrize(
    "clip",
    [
        np.zeros(3 * SAMPLE_RATE, np.float32),
        (np.random.default_rng(0).standard_normal(3 * SAMPLE_RATE) * 0.003).astype(np.float32),
        np.zeros(100, np.float32),
    ],
    ids=["digital-silence", "room-hiss", "a-click-long"],
)
def test_silence_trims_to_nothing(clip: np.ndarray) -> None:
    assert trim_silence(clip).size == 0


def test_pink_noise_is_not_speech(alsa: Path) -> None:
    assert trim_silence(alsa_samples("Noise")).size == 0
