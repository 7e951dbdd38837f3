"""Word error rate of a Whisper model over a folder of recordings.

The folder holds audio files and a transcripts file, one line per recording:

    Front_Center.wav<TAB>front center
    Noise.wav<TAB>                      (an empty transcript: no words expected)

Both sides go through Whisper's English text normaliser (case, punctuation,
contractions, spelling variants) before jiwer counts the errors, as in Whisper's paper.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jiwer

from models.speech.asr import DecodeOptions, SpeechModel, transcribe
from models.speech.audio import AudioLimits

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".webm", ".mp3", ".m4a")
TRANSCRIPTS_FILE = "transcripts.tsv"


@cache
def _normaliser() -> Callable[[str], str]:
    from whisper.normalizers import EnglishTextNormalizer

    normaliser: Callable[[str], str] = EnglishTextNormalizer()
    return normaliser


def normalise(text: str) -> str:
    """Lower-case words without punctuation, spelled one way ("We're" -> "we are")."""
    return " ".join(_normaliser()(text).split())


def read_transcripts(path: Path) -> dict[str, str]:
    """file name -> reference text, from a `name<TAB>text` file (# starts a comment)."""
    references: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, tab, text = line.partition("\t")
        if not tab:
            raise ValueError(f"{path}:{number}: expected 'file<TAB>transcript'")
        references[name.strip()] = text.strip()
    return references


def names_as_transcripts(folder: Path) -> dict[str, str]:
    """References taken from file names ("Front_Center.wav" -> "Front Center")."""
    return {
        p.name: p.stem.replace("_", " ").replace("-", " ")
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in AUDIO_SUFFIXES
    }


@dataclass(frozen=True)
class Utterance:
    file: str
    reference: str
    hypothesis: str
    seconds: float  # audio length
    processing_seconds: float


@dataclass(frozen=True)
class EvalReport:
    backend: str
    model: str
    wer: float  # over the recordings with words, normalised text
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int
    silent_clips_with_words: int  # empty references that still got a transcript
    audio_seconds: float
    processing_seconds: float
    utterances: tuple[Utterance, ...]

    @property
    def real_time_factor(self) -> float:
        return self.processing_seconds / self.audio_seconds if self.audio_seconds else 0.0


def evaluate(
    model: SpeechModel,
    folder: Path,
    references: dict[str, str],
    options: DecodeOptions | None = None,
    limits: AudioLimits | None = None,
) -> EvalReport:
    """Transcribe each referenced recording in `folder` and score it against its text."""
    limits = limits or AudioLimits(max_bytes=1 << 30, max_seconds=3600)
    utterances = []
    for name, reference in sorted(references.items()):
        data = (folder / name).read_bytes()
        started = time.perf_counter()
        result = transcribe(model, data, limits, options)
        elapsed = time.perf_counter() - started  # decoding and speech gating included
        utterances.append(Utterance(name, reference, result.text, result.duration, elapsed))
    spoken = [u for u in utterances if normalise(u.reference)]
    silent = [u for u in utterances if not normalise(u.reference)]
    counts = (
        jiwer.process_words(
            [normalise(u.reference) for u in spoken],
            [normalise(u.hypothesis) for u in spoken],
        )
        if spoken
        else None
    )
    return EvalReport(
        backend=model.backend,
        model=model.name,
        wer=float(counts.wer) if counts else 0.0,
        substitutions=counts.substitutions if counts else 0,
        deletions=counts.deletions if counts else 0,
        insertions=counts.insertions if counts else 0,
        reference_words=sum(len(normalise(u.reference).split()) for u in spoken),
        silent_clips_with_words=sum(1 for u in silent if normalise(u.hypothesis)),
        audio_seconds=sum(u.seconds for u in utterances),
        processing_seconds=sum(u.processing_seconds for u in utterances),
        utterances=tuple(utterances),
    )


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of one hypothesis against one non-empty reference, on normalised text."""
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))
