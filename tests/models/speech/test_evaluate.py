"""WER over a folder of recordings with a transcripts file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.speech import DecodeOptions, SpeechModel
from models.speech.evaluate import (
    evaluate,
    names_as_transcripts,
    normalise,
    read_transcripts,
    word_error_rate,
)
from tests.models.speech.samples import ALSA_PROMPT


@pytest.fixture
def folder(alsa: Path, tmp_path: Path) -> Path:
    for name in ("Front_Center", "Rear_Left", "Noise"):
        shutil.copy(alsa / f"{name}.wav", tmp_path)
    (tmp_path / "transcripts.tsv").write_text(
        "# file\ttranscript\nFront_Center.wav\tFront centre\nRear_Left.wav\trear, left\nNoise.wav\t\n"
    )
    return tmp_path


def test_normalise_spells_one_way() -> None:
    assert normalise("We're at the Front, CENTRE!") == "we are at the front center"


def test_word_error_rate() -> None:
    assert word_error_rate("side left", "Side, right.") == 0.5
    assert word_error_rate("Front, centre", "front center") == 0.0
    assert word_error_rate("rear right", "We're right.") == 1.0  # one substitution, one insertion


def test_read_transcripts(folder: Path) -> None:
    references = read_transcripts(folder / "transcripts.tsv")
    assert references == {
        "Front_Center.wav": "Front centre",
        "Rear_Left.wav": "rear, left",
        "Noise.wav": "",
    }


def test_transcripts_need_a_tab(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("clip.wav hello\n")
    with pytest.raises(ValueError, match=r"t.tsv:1: expected 'file<TAB>transcript'"):
        read_transcripts(tmp_path / "t.tsv")


def test_names_as_transcripts(folder: Path) -> None:
    assert names_as_transcripts(folder)["Front_Center.wav"] == "Front Center"


def test_evaluate_a_folder(faster_tiny: SpeechModel, folder: Path) -> None:
    references = read_transcripts(folder / "transcripts.tsv")
    options = DecodeOptions(language="en", initial_prompt=ALSA_PROMPT)
    report = evaluate(faster_tiny, folder, references, options)
    assert (report.backend, report.model) == ("faster", "tiny.en-ct2")
    assert report.wer == 0.0 and report.reference_words == 4
    assert report.silent_clips_with_words == 0
    assert [u.file for u in report.utterances] == ["Front_Center.wav", "Noise.wav", "Rear_Left.wav"]
    assert report.audio_seconds == pytest.approx(1.428 + 1.408 + 1.313, abs=0.01)
    assert 0 < report.real_time_factor < 5
