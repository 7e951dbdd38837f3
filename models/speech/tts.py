"""Spoken replies: text -> wav (or ogg/opus) bytes, through Piper or espeak-ng.

Both engines implement `TTSEngine`; `Speaker` puts a cache in front of either, keyed by
engine, voice, format and text, because the assistant says the same sentences often
("I didn't hear anything.", game names). The cache is an in-memory LRU, plus a disk
folder where one is given, so replies survive a restart.

Licences: piper-tts is GPL-3.0 (a separate package we call, unmodified); the
en_US-joe-medium voice is CC0; espeak-ng is GPL-3.0 (a separate program we run).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

AudioFormat = Literal["wav", "ogg"]
PIPER_VOICE = "tts/en_US-joe-medium.onnx"  # under the models folder (services/assets.py)
MAX_CHARS = 2_000  # a reply, not a book: keeps one request from holding the worker


class TTSError(RuntimeError):
    """Speech could not be synthesised (missing voice or program, engine failure)."""


class TTSEngine(Protocol):
    @property
    def voice_id(self) -> str:
        """Engine, voice and settings: part of the cache key."""
        ...

    def synthesize_wav(self, text: str) -> bytes:
        """16-bit mono wav bytes of `text` spoken."""
        ...


@dataclass
class PiperEngine:
    """Piper neural TTS (ONNX runtime); the voice loads on first use."""

    model_path: Path
    length_scale: float | None = None  # > 1 speaks slower; None keeps the voice's own
    # Piper samples noise for a lively voice, so each synthesis differs slightly; 0 and 0
    # make it repeatable (tests). None keeps the voice's own.
    noise_scale: float | None = None
    noise_w_scale: float | None = None
    use_cuda: bool = False
    _voice: Any = field(default=None, init=False, repr=False)

    @property
    def voice_id(self) -> str:
        scales = (self.length_scale, self.noise_scale, self.noise_w_scale)
        return f"piper:{self.model_path.name}:{scales}"

    def synthesize_wav(self, text: str) -> bytes:
        from piper import PiperVoice, SynthesisConfig

        if self._voice is None:
            if not self.model_path.is_file():
                raise TTSError(f"no Piper voice at {self.model_path}: run `cradle assets fetch`")
            self._voice = PiperVoice.load(self.model_path, use_cuda=self.use_cuda)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            config = SynthesisConfig(
                length_scale=self.length_scale,
                noise_scale=self.noise_scale,
                noise_w_scale=self.noise_w_scale,
            )
            self._voice.synthesize_wav(text, wav, config)
        return buffer.getvalue()


@dataclass(frozen=True)
class EspeakEngine:
    """espeak-ng (formant synthesis): robotic but tiny, instant and always there."""

    voice: str = "en-us"
    words_per_minute: int = 160

    @property
    def voice_id(self) -> str:
        return f"espeak-ng:{self.voice}:{self.words_per_minute}"

    def synthesize_wav(self, text: str) -> bytes:
        program = shutil.which("espeak-ng")
        if program is None:
            raise TTSError("espeak-ng is not installed (Debian package espeak-ng)")
        # Text goes on stdin so a reply starting with "-" is never read as an option. The wav
        # goes to a file: on a pipe espeak-ng cannot go back to fill in the header's sizes.
        with tempfile.TemporaryDirectory(prefix="cradle-espeak-") as folder:
            target = Path(folder) / "reply.wav"
            command = [program, "-v", self.voice, "-s", str(self.words_per_minute)]
            command += ["-w", str(target)]
            result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=60)
            if result.returncode != 0 or not target.is_file():
                stderr = result.stderr.decode(errors="replace")[-300:]
                raise TTSError(f"espeak-ng failed: {stderr}")
            return target.read_bytes()


def wav_to_ogg(wav_bytes: bytes, bitrate: str = "32k") -> bytes:
    """Re-encode wav as ogg/opus (about a tenth of the size) with the ffmpeg program."""
    program = shutil.which("ffmpeg")
    if program is None:
        raise TTSError("ffmpeg is not installed (Debian package ffmpeg)")
    command = [program, "-v", "error", "-f", "wav", "-i", "pipe:0"]
    command += ["-c:a", "libopus", "-b:a", bitrate, "-f", "ogg", "pipe:1"]
    result = subprocess.run(command, input=wav_bytes, capture_output=True, timeout=60)
    if result.returncode != 0 or not result.stdout:
        raise TTSError(f"ffmpeg could not encode ogg: {result.stderr.decode(errors='replace')[-300:]}")
    return result.stdout


class Speaker:
    """`synthesize(text) -> bytes` in one format, cached in memory and optionally on disk."""

    def __init__(
        self,
        engine: TTSEngine,
        audio_format: AudioFormat = "wav",
        cache_dir: Path | None = None,
        memory_items: int = 256,
    ) -> None:
        self.engine = engine
        self.audio_format = audio_format
        self.cache_dir = cache_dir
        self.memory_items = memory_items
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def cache_key(self, text: str) -> str:
        spoken = " ".join(text.split())
        identity = f"{self.engine.voice_id}\0{self.audio_format}\0{spoken}"
        return hashlib.sha256(identity.encode()).hexdigest()

    def synthesize(self, text: str) -> bytes:
        """Audio bytes of `text` spoken. Raises ValueError for empty or overlong text."""
        spoken = " ".join(text.split())
        if not spoken:
            raise ValueError("nothing to say: the reply text is empty")
        if len(spoken) > MAX_CHARS:
            raise ValueError(f"the reply is {len(spoken)} characters; the limit is {MAX_CHARS}")
        key = self.cache_key(spoken)
        cached = self._recall(key)
        if cached is not None:
            return cached
        audio = self.engine.synthesize_wav(spoken)
        if self.audio_format == "ogg":
            audio = wav_to_ogg(audio)
        self._remember(key, audio)
        return audio

    def synthesize_file(self, text: str) -> Path:
        """Like `synthesize`, but returns the cache file holding the audio (to serve by URL)."""
        if self.cache_dir is None:
            raise ValueError("synthesize_file needs a Speaker with a cache_dir")
        self.synthesize(text)
        path = self._disk_path(self.cache_key(text))
        assert path is not None
        if not path.is_file():  # a memory hit whose file was pruned meanwhile: write it again
            self._remember(self.cache_key(text), self.synthesize(text))
        return path

    def _disk_path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key}.{self.audio_format}" if self.cache_dir else None

    def _recall(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self._disk_path(key)
        if path is not None and path.is_file():
            audio = path.read_bytes()
            self._remember(key, audio, write=False)
            return audio
        return None

    def _remember(self, key: str, audio: bytes, write: bool = True) -> None:
        with self._lock:
            self._memory[key] = audio
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)
        path = self._disk_path(key)
        if write and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{threading.get_ident()}.tmp")
            partial.write_bytes(audio)
            partial.replace(path)  # atomic: a concurrent reader sees all of it or nothing


def make_engine(name: Literal["piper", "espeak"], models_dir: Path) -> TTSEngine:
    """The named engine with the registry voice from `models_dir` (Piper) or en-us (espeak)."""
    if name == "piper":
        return PiperEngine(models_dir / PIPER_VOICE)
    if name == "espeak":
        return EspeakEngine()
    raise ValueError(f"unknown TTS engine {name!r}; choose piper or espeak")
