"""Spoken replies: both engines, both formats, and the cache in front of them."""

from __future__ import annotations

import io
import shutil
import wave
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from models.speech import AudioLimits, EspeakEngine, Speaker, decode_audio
from models.speech.audio import SAMPLE_RATE
from tests.conftest import require


@dataclass
class CountingEngine:
    """Wraps a real engine and counts how often it is asked to speak."""

    inner: EspeakEngine = field(default_factory=EspeakEngine)
    calls: int = 0

    @property
    def voice_id(self) -> str:
        return self.inner.voice_id

    def synthesize_wav(self, text: str) -> bytes:
        self.calls += 1
        return self.inner.synthesize_wav(text)


@pytest.fixture(scope="module")
def espeak() -> None:
    require(shutil.which("espeak-ng") is not None,
            "espeak-ng is missing: install the Debian package espeak-ng")


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.getnframes() / wav.getframerate()


def test_piper_speaks_a_wav(piper_speaker: Speaker) -> None:
    audio = piper_speaker.synthesize("Time for a nap.")
    assert audio[:4] == b"RIFF"
    assert 0.5 < wav_seconds(audio) < 4.0


def test_espeak_speaks_a_wav(espeak: None) -> None:
    audio = Speaker(EspeakEngine()).synthesize("Time for a nap.")
    assert 0.5 < wav_seconds(audio) < 4.0


def test_ogg_is_opus_and_much_smaller(espeak: None, ffmpeg: str) -> None:
    text = "Shall we sing the itsy bitsy spider?"
    wav = Speaker(EspeakEngine()).synthesize(text)
    ogg = Speaker(EspeakEngine(), "ogg").synthesize(text)
    assert ogg[:4] == b"OggS" and b"OpusHead" in ogg[:100]
    assert len(ogg) < len(wav) / 4
    decoded = decode_audio(ogg, AudioLimits()).size / SAMPLE_RATE
    assert decoded == pytest.approx(wav_seconds(wav), abs=0.1)


def test_same_text_is_synthesised_once(espeak: None) -> None:
    engine = CountingEngine()
    speaker = Speaker(engine)
    first = speaker.synthesize("Good morning!")
    assert speaker.synthesize("  Good   morning! ") == first  # same words, same audio
    assert engine.calls == 1
    speaker.synthesize("Good night!")
    assert engine.calls == 2


def test_memory_cache_is_bounded(espeak: None) -> None:
    engine = CountingEngine()
    speaker = Speaker(engine, memory_items=1)
    speaker.synthesize("one")
    speaker.synthesize("two")
    speaker.synthesize("one")  # evicted by "two"
    assert engine.calls == 3


def test_disk_cache_survives_a_restart(espeak: None, tmp_path: Path) -> None:
    first = CountingEngine()
    audio = Speaker(first, "wav", tmp_path).synthesize("Peekaboo!")
    again = CountingEngine()
    assert Speaker(again, "wav", tmp_path).synthesize("Peekaboo!") == audio
    assert (first.calls, again.calls) == (1, 0)
    assert [p.suffix for p in tmp_path.iterdir()] == [".wav"]  # no temporary file left


def test_synthesize_file_returns_the_cached_reply(espeak: None, tmp_path: Path) -> None:
    speaker = Speaker(CountingEngine(), "wav", tmp_path)
    path = speaker.synthesize_file("Bath time!")
    assert path.parent == tmp_path and path.read_bytes() == speaker.synthesize("Bath time!")
    path.unlink()  # pruned by someone while still in the memory cache
    assert speaker.synthesize_file("Bath time!").is_file()
    with pytest.raises(ValueError, match="cache_dir"):
        Speaker(EspeakEngine()).synthesize_file("hi")


def test_cache_key_separates_voices_and_formats() -> None:
    slow, fast = EspeakEngine(words_per_minute=120), EspeakEngine(words_per_minute=200)
    keys = {
        Speaker(slow).cache_key("hi"),
        Speaker(fast).cache_key("hi"),
        Speaker(slow, "ogg").cache_key("hi"),
    }
    assert len(keys) == 3


def test_empty_and_overlong_text_are_refused() -> None:
    speaker = Speaker(EspeakEngine())
    with pytest.raises(ValueError, match="empty"):
        speaker.synthesize("   ")
    with pytest.raises(ValueError, match="limit"):
        speaker.synthesize("la " * 1000)


def test_reply_starting_with_a_dash_is_spoken_not_parsed(espeak: None) -> None:
    audio = Speaker(EspeakEngine()).synthesize("--help is on its way")
    assert wav_seconds(audio) > 0.5
