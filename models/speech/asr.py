"""Whisper speech recognition behind one door, on two backends.

`openai`: the reference implementation (openai-whisper, PyTorch), from a checkpoint.
`faster`: faster-whisper (CTranslate2), int8 on CPU and float16 on GPU.

Both take the same `DecodeOptions` and return the same `Transcript`. `transcribe`
runs the whole path for an upload: decode, find the speech, recognise it; a clip
without speech comes back with no words instead of whatever Whisper would invent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.speech.audio import SAMPLE_RATE, AudioLimits, SpeechGate, decode_audio, speech_bounds
from models.speech.locate import BACKENDS, WHISPER_FOLDERS, Backend, ModelNotFound, resolve_model

NO_SPEECH_REPLY = "I didn't hear anything."


@dataclass(frozen=True)
class DecodeOptions:
    """How Whisper decodes; the same meaning on both backends."""

    language: str | None = None  # None detects it; "en", "fr"... fixes it
    beam_size: int = 5  # 1 is greedy decoding
    # Tried in turn while the output looks wrong (too repetitive or too unlikely).
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    # The family's words (the child's name, game names) so Whisper spells them right.
    initial_prompt: str | None = None
    condition_on_previous_text: bool = True  # feed each 30 s window the previous text


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the uploaded clip
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str  # "" where no speech was heard
    language: str  # detected or fixed; "" where no speech was heard
    duration: float  # seconds of audio in the upload
    segments: tuple[Segment, ...]
    backend: Backend
    model: str = ""  # which weights produced it (a name or file name)

    @property
    def heard_speech(self) -> bool:
        return bool(self.text)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the Celery result and the SpeechTranscribed event)."""
        return asdict(self)


class SpeechModel(Protocol):
    backend: Backend
    name: str

    def recognise(self, samples: np.ndarray, options: DecodeOptions) -> tuple[str, list[Segment]]:
        """(language, segments) for 16 kHz mono float32 samples holding speech."""
        ...


@dataclass
class OpenAIWhisper:
    model: Any  # whisper.model.Whisper
    fp16: bool
    name: str
    backend: Backend = field(default="openai", init=False)

    def recognise(self, samples: np.ndarray, options: DecodeOptions) -> tuple[str, list[Segment]]:
        import whisper

        result = whisper.transcribe(
            self.model,
            samples,
            verbose=None,
            temperature=options.temperatures,
            condition_on_previous_text=options.condition_on_previous_text,
            initial_prompt=options.initial_prompt,
            language=options.language,
            # openai-whisper treats beam_size=None as greedy; 1 would run a 1-wide beam.
            beam_size=options.beam_size if options.beam_size > 1 else None,
            best_of=5,
            fp16=self.fp16,
        )
        segments = [Segment(s["start"], s["end"], s["text"].strip()) for s in result["segments"]]
        return str(result["language"]), segments


class _OneEncoderPass:
    """A WhisperModel's `encode`, remembering its last window so that window is encoded
    once per clip.

    Asked to detect the language, faster-whisper 1.2 encodes the first 30 s window to
    detect it, then again to decode it: for a question (one window) that doubles the
    encoder's work, the larger part of the recognition. `FasterWhisper` detects the
    language itself on the very window faster-whisper decodes first, and the decoder's
    request for that window is answered from here. Remembered per thread and until
    `forget` (after each clip), so nothing is kept between uploads.
    """

    def __init__(self, encode: Callable[[np.ndarray], Any]) -> None:
        self._encode = encode
        self._last = threading.local()

    def __call__(self, features: np.ndarray) -> Any:
        last = getattr(self._last, "window", None)
        if last is not None and np.array_equal(last[0], features):
            return last[1]
        encoded = self._encode(features)
        self._last.window = (features, encoded)
        return encoded

    def forget(self) -> None:
        self._last.window = None


@dataclass
class FasterWhisper:
    model: Any  # faster_whisper.WhisperModel
    name: str
    backend: Backend = field(default="faster", init=False)

    def detect_language(self, samples: np.ndarray) -> str:
        """The language spoken in the first 30 s window, by the encoder pass that decoding
        it will reuse (see `_OneEncoderPass`)."""
        from faster_whisper.audio import pad_or_trim

        model = self.model
        features = model.feature_extractor(samples)
        content = features[:, : min(features.shape[-1] - 1, model.feature_extractor.nb_max_frames)]
        # The same window `generate_segments` decodes first: its last frame is left out.
        window = pad_or_trim(content)  # (n_mels, 3000)
        (token, _probability), *_ = model.model.detect_language(model.encode(window))[0]
        return str(token[2:-2])  # "<|en|>" -> "en"

    def recognise(self, samples: np.ndarray, options: DecodeOptions) -> tuple[str, list[Segment]]:
        language = options.language
        if language is None and self.model.model.is_multilingual:
            language = self.detect_language(samples)
        try:
            pieces, info = self.model.transcribe(
                samples,
                language=language,
                beam_size=options.beam_size,
                best_of=5,
                temperature=list(options.temperatures),
                initial_prompt=options.initial_prompt,
                condition_on_previous_text=options.condition_on_previous_text,
                vad_filter=False,  # `transcribe` has already cut the clip to its speech
            )
            segments = [Segment(p.start, p.end, p.text.strip()) for p in pieces]  # runs the decode
        finally:
            self.model.encode.forget()
        return str(info.language), segments


def _device(device: str, backend: Backend) -> str:
    if device != "auto":
        return device
    if backend == "faster":
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(
    name_or_path: str | Path,
    device: str = "cpu",
    backend: Backend = "faster",
    models_dir: Path | None = None,
    threads: int = 0,
) -> SpeechModel:
    """Load Whisper once per process from local files; never from a model hub.

    name_or_path: a checkpoint file (openai) or a CTranslate2 folder (faster), or a
      model name ("tiny.en", "base") found under `models_dir` (see locate.py).
    device: "cpu", "cuda" or "auto".
    threads: CPU threads for inference; 0 leaves the library default.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown speech backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if str(name_or_path) in WHISPER_FOLDERS or not Path(name_or_path).exists():
        if models_dir is None:
            raise ModelNotFound(f"{name_or_path} is not a local path and no models folder was given")
        path = resolve_model(models_dir, str(name_or_path), backend)
    else:
        path = Path(name_or_path)
    if backend == "openai" and not path.is_file():
        raise ModelNotFound(f"{path}: the openai backend loads a checkpoint file (`cradle speech convert`)")
    if backend == "faster" and not (path / "model.bin").is_file():
        raise ModelNotFound(f"{path}: the faster backend loads a CTranslate2 folder with a model.bin")
    device = _device(device, backend)
    if backend == "openai":
        import torch
        import whisper

        if threads:
            torch.set_num_threads(threads)
        model = whisper.load_model(str(path), device=device)
        return OpenAIWhisper(model, fp16=device.startswith("cuda"), name=path.name)
    from faster_whisper import WhisperModel

    compute_type = "float16" if device.startswith("cuda") else "int8"
    model = WhisperModel(str(path), device=device, compute_type=compute_type, cpu_threads=threads)
    model.encode = _OneEncoderPass(model.encode)  # the instance's, ahead of the class's
    return FasterWhisper(model, name=path.name)


def transcribe_samples(
    model: SpeechModel,
    samples: np.ndarray,
    options: DecodeOptions | None = None,
    gate: SpeechGate | None = None,
) -> Transcript:
    """Recognise the speech in decoded samples; silence and noise give no words."""
    options = options or DecodeOptions()
    duration = samples.size / SAMPLE_RATE
    bounds = speech_bounds(samples, gate or SpeechGate())
    if bounds is None:
        return Transcript("", "", duration, (), model.backend, model.name)
    start, end = bounds
    language, segments = model.recognise(np.ascontiguousarray(samples[start:end]), options)
    offset = start / SAMPLE_RATE  # segment times refer to the uploaded clip, not the cut
    shifted = tuple(  # a last segment may end at the padded window's end: clamp to the clip
        Segment(round(s.start + offset, 2), round(min(s.end + offset, duration), 2), s.text)
        for s in segments
        if s.text
    )
    text = " ".join(s.text for s in shifted)
    return Transcript(text, language if text else "", duration, shifted, model.backend, model.name)


def transcribe(
    model: SpeechModel,
    data: bytes,
    limits: AudioLimits,
    options: DecodeOptions | None = None,
    gate: SpeechGate | None = None,
) -> Transcript:
    """An uploaded audio file -> its transcript. Raises `AudioError` for bad uploads."""
    return transcribe_samples(model, decode_audio(data, limits), options, gate)
