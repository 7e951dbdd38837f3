"""Whisper on real speech, through both backends and the converted checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.speech import (
    AudioLimits,
    DecodeOptions,
    ModelNotFound,
    Speaker,
    SpeechModel,
    load_model,
    transcribe,
    transcribe_samples,
)
from models.speech.audio import SAMPLE_RATE, decode_audio
from models.speech.evaluate import normalise, word_error_rate
from tests.models.speech.conftest import needs
from tests.models.speech.samples import ALSA_PROMPT, ALSA_WORDS, THREADS, alsa_samples, wav_bytes

ALSA_OPTIONS = DecodeOptions(language="en", initial_prompt=ALSA_PROMPT)
REPLY = "The baby had a long nap this afternoon. Would you like to read a story before dinner?"


@pytest.fixture(params=["openai", "faster"])
def tiny(request: pytest.FixtureRequest) -> SpeechModel:
    model: SpeechModel = request.getfixturevalue(f"{request.param}_tiny")
    return model


@pytest.fixture(scope="module")
def spoken_reply(piper_speaker: Speaker) -> bytes:
    return piper_speaker.synthesize(REPLY)


def test_alsa_samples_transcribe_to_their_names(tiny: SpeechModel, alsa: Path) -> None:
    heard = {
        name: normalise(
            transcribe(tiny, (alsa / f"{name}.wav").read_bytes(), AudioLimits(), ALSA_OPTIONS).text
        )
        for name in ALSA_WORDS
    }
    assert heard == ALSA_WORDS


def test_result_carries_language_duration_timings_and_backend(tiny: SpeechModel, alsa: Path) -> None:
    result = transcribe(tiny, (alsa / "Front_Left.wav").read_bytes(), AudioLimits(), ALSA_OPTIONS)
    assert result.backend == tiny.backend and result.model
    assert result.language == "en"
    assert result.duration == pytest.approx(1.48, abs=0.01)
    assert len(result.segments) == 1
    segment = result.segments[0]
    assert 0.0 <= segment.start < segment.end <= result.duration
    assert result.to_dict()["segments"][0]["text"] == segment.text


def test_segment_times_count_from_the_start_of_the_upload(faster_tiny: SpeechModel, alsa: Path) -> None:
    quiet = np.zeros(3 * SAMPLE_RATE, np.float32)
    clip = np.concatenate([quiet, alsa_samples("Side_Right"), quiet])
    result = transcribe_samples(faster_tiny, clip, ALSA_OPTIONS)
    assert normalise(result.text) == "side right"
    assert result.duration == pytest.approx(6 + 1.35, abs=0.01)
    assert 2.5 < result.segments[0].start < 3.5  # the speech starts after 3 s of silence
    assert result.segments[-1].end < 5.0


@pytest.mark.parametrize("level", [0.0, 0.003], ids=["digital-silence", "room-hiss"])
def test_silence_returns_no_words(tiny: SpeechModel, level: float) -> None:
    clip = (np.random.default_rng(0).standard_normal(4 * SAMPLE_RATE) * level).astype(np.float32)
    result = transcribe(tiny, wav_bytes(clip), AudioLimits())
    assert not result.heard_speech
    assert (result.text, result.language, result.segments) == ("", "", ())
    assert result.duration == pytest.approx(4.0)


def test_noise_returns_no_words(tiny: SpeechModel, alsa: Path) -> None:
    # Left to itself, Whisper "hears" words in this pink noise ("You").
    result = transcribe(tiny, (alsa / "Noise.wav").read_bytes(), AudioLimits())
    assert not result.heard_speech


def test_piper_reply_round_trips_through_asr(tiny: SpeechModel, spoken_reply: bytes) -> None:
    result = transcribe(tiny, spoken_reply, AudioLimits(), DecodeOptions(language="en"))
    assert word_error_rate(REPLY, result.text) <= 0.1, result.text


def test_converted_openai_and_faster_whisper_hear_the_same_words(
    openai_tiny: SpeechModel, faster_tiny: SpeechModel, spoken_reply: bytes, alsa: Path
) -> None:
    clips = [
        (spoken_reply, DecodeOptions(language="en")),
        ((alsa / "Rear_Left.wav").read_bytes(), ALSA_OPTIONS),
    ]
    for clip, options in clips:
        reference = transcribe(openai_tiny, clip, AudioLimits(), options)
        faster = transcribe(faster_tiny, clip, AudioLimits(), options)
        assert reference.text
        assert normalise(reference.text) == normalise(faster.text)


def test_greedy_decoding_and_auto_language(faster_tiny: SpeechModel, alsa: Path) -> None:
    options = DecodeOptions(language=None, beam_size=1, temperatures=(0.0,))
    result = transcribe(faster_tiny, (alsa / "Front_Right.wav").read_bytes(), AudioLimits(), options)
    assert normalise(result.text) == "front right"
    assert result.language == "en"  # an English-only model always answers English


def test_detecting_the_language_encodes_the_question_once(models_dir: Path, spoken_reply: bytes) -> None:
    """Base is multilingual: told no language, it detects one, on the same encoder pass it
    then decodes, and hears what faster-whisper's own detection (two passes) hears."""
    needs(models_dir / "whisper/base-ct2/model.bin", "run `cradle assets fetch`")
    base = load_model("base", "cpu", "faster", models_dir, threads=THREADS)
    samples = decode_audio(spoken_reply, AudioLimits())
    whisper = base.model  # type: ignore[attr-defined]
    passes = []
    encode = whisper.encode._encode
    whisper.encode._encode = lambda features: passes.append(features.shape) or encode(features)
    options = DecodeOptions(language=None, beam_size=1)
    ours = transcribe_samples(base, samples, options)
    assert passes == [(80, 3000)]  # one 30 s window, encoded once
    pieces, info = whisper.transcribe(samples, beam_size=1, language=None)  # its own detection
    assert (ours.language, ours.text) == (info.language, " ".join(p.text.strip() for p in pieces))
    assert ours.language == "en" and normalise(ours.text) == normalise(REPLY)


def test_names_resolve_only_to_local_files(models_dir: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"known: tiny\.en, base"):
        load_model("large-v3", "cpu", "faster", models_dir)
    with pytest.raises(ModelNotFound, match="no models folder"):
        load_model("tiny.en", "cpu", "openai")
    with pytest.raises(ModelNotFound, match="checkpoint file"):
        load_model(models_dir / "whisper/tiny.en-ct2", "cpu", "openai")
    with pytest.raises(ValueError, match="openai, faster"):
        load_model("tiny.en", "cpu", "whisper.cpp", models_dir)  # type: ignore[arg-type]


def test_converted_checkpoint_is_cached_beside_the_ctranslate2_model(
    openai_tiny: SpeechModel, models_dir: Path
) -> None:
    checkpoint = models_dir / "whisper/tiny.en-openai.pt"
    assert openai_tiny.name == checkpoint.name
    before = checkpoint.stat().st_mtime_ns
    load_model("tiny.en", "cpu", "openai", models_dir)
    assert checkpoint.stat().st_mtime_ns == before  # converted once, not on every load
