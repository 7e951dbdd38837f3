"""Uploaded audio -> 16 kHz mono float32 samples, and the speech inside them.

Decoding goes through FFmpeg's libraries (PyAV), in memory, so every container a
browser or phone sends works the same way: wav, webm/opus, ogg, mp3, m4a, flac.
Bad input raises one of the `AudioError` subclasses below, each saying what was wrong;
the gateway maps them to 4xx answers (see each class).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

SAMPLE_RATE = 16_000  # what Whisper expects


class AudioError(ValueError):
    """Base class: the upload cannot be turned into speech samples."""


class EmptyAudio(AudioError):
    """Nothing to decode: zero bytes, or a container with no samples (HTTP 400)."""


class AudioTooLarge(AudioError):
    """More bytes than the limit allows (HTTP 413)."""


class AudioTooLong(AudioError):
    """Longer than the limit allows, judged by the header or while decoding (HTTP 413)."""


class UnsupportedAudio(AudioError):
    """Not a media format FFmpeg recognises, or media without an audio track (HTTP 415)."""


class CorruptAudio(AudioError):
    """A recognised audio format whose data fails to decode (HTTP 400)."""


@dataclass(frozen=True)
class AudioLimits:
    """Bounds on one upload; the gateway and the worker take them from settings."""

    max_bytes: int = 10 * 1024 * 1024  # a 60 s opus note is ~0.5 MB; wav ~2 MB
    max_seconds: float = 60.0  # a question to the assistant, not a recording session


def decode_audio(data: bytes, limits: AudioLimits) -> np.ndarray:
    """Decode an encoded audio file to mono float32 samples at 16 kHz in [-1, 1].

    Raises an `AudioError` subclass for empty, oversized, unrecognised or corrupt input.
    """
    if not data:
        raise EmptyAudio("the upload is empty: send a recorded audio file")
    if len(data) > limits.max_bytes:
        raise AudioTooLarge(f"the upload is {len(data)} bytes; the limit is {limits.max_bytes} bytes")
    max_samples = int(limits.max_seconds * SAMPLE_RATE)
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, EOFError) as exc:  # truncated headers surface as EOFError
        raise UnsupportedAudio("not a recognised audio file: send wav, webm/opus, ogg, mp3 or m4a") from exc
    with container:
        if not container.streams.audio:
            raise UnsupportedAudio(
                f"the {container.format.name} file has no audio track: send a voice recording"
            )
        if container.duration is not None and container.duration / av.time_base > limits.max_seconds:
            raise AudioTooLong(_too_long(container.duration / av.time_base, limits))
        chunks = _decode_stream(container, max_samples, limits)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise EmptyAudio("the audio file holds no samples")
    return samples


def _decode_stream(
    container: av.container.InputContainer, max_samples: int, limits: AudioLimits
) -> list[np.ndarray]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in container.decode(container.streams.audio[0]):
            for resampled in resampler.resample(frame):
                chunk = resampled.to_ndarray().reshape(-1)  # (1, n) packed flt -> (n,)
                chunks.append(chunk)
                total += chunk.size
            if total > max_samples:
                raise AudioTooLong(_too_long(total / SAMPLE_RATE, limits))
        chunks.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(None))
    except (av.FFmpegError, EOFError) as exc:
        raise CorruptAudio(f"the audio data is damaged and cannot be decoded ({exc})") from exc
    return chunks


def _too_long(seconds: float, limits: AudioLimits) -> str:
    return f"the recording lasts {seconds:.1f} s; the limit is {limits.max_seconds:.0f} s"


@dataclass(frozen=True)
class SpeechGate:
    """When a clip counts as speech; Silero VAD (shipped with faster-whisper) decides."""

    threshold: float = 0.5  # Silero speech probability above which a 32 ms window is speech
    min_speech_ms: int = 120  # shorter bursts (a cough, a click) are not a question
    pad_ms: int = 200  # kept either side of the speech so first and last words stay whole
    floor_dbfs: float = -55.0  # quieter than this overall is silence; skips the VAD


def speech_bounds(samples: np.ndarray, gate: SpeechGate) -> tuple[int, int] | None:
    """(first, last) sample of speech in `samples`, padded, or None where there is none."""
    if samples.size < SAMPLE_RATE // 10:
        return None
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms == 0.0 or 20 * np.log10(rms) < gate.floor_dbfs:
        return None
    # Imported here: the VAD builds an ONNX session on first use, which callers that only
    # decode should not pay for.
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    spans = get_speech_timestamps(
        samples,
        VadOptions(threshold=gate.threshold, min_speech_duration_ms=gate.min_speech_ms, speech_pad_ms=0),
    )
    if not spans:
        return None
    pad = gate.pad_ms * SAMPLE_RATE // 1000
    return max(0, spans[0]["start"] - pad), min(samples.size, spans[-1]["end"] + pad)


def trim_silence(samples: np.ndarray, gate: SpeechGate | None = None) -> np.ndarray:
    """The stretch of `samples` from the first to the last speech; empty where none."""
    bounds = speech_bounds(samples, gate or SpeechGate())
    if bounds is None:
        return samples[:0]
    return samples[bounds[0] : bounds[1]]
