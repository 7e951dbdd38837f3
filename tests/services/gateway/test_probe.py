"""The upload prober's helpers: a file that hangs or kills one costs that upload alone.

A FIFO stands in for the hostile file: opening it blocks the helper the way a file that
makes FFmpeg wait forever would (the gateway's own uploads are regular files)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.gateway.probe import NotAudio, Prober, Recording
from tests.services.gateway import hostile

LIMITS = dict(min_seconds=0.3, max_seconds=60.0)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "question.wav"
    path.write_bytes(hostile.wav(2.0))
    return path


@pytest.fixture
def stuck(tmp_path: Path) -> Path:
    fifo = tmp_path / "stuck.wav"
    os.mkfifo(fifo)
    return fifo


def helpers() -> set[int]:
    """Pids of this process's probe helpers."""
    found = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "gateway/probe.py"],
                           capture_output=True, text=True, check=False).stdout
    return {int(pid) for pid in found.split()}


def test_a_recording_is_described_and_the_helper_stays_up_for_the_next(recording: Path) -> None:
    with Prober() as prober:
        heard = prober.probe(recording, timeout_s=10, **LIMITS)
        first = helpers()
        again = prober.probe(recording, timeout_s=10, **LIMITS)
        assert heard == again == Recording("wav", "pcm_s16le", pytest.approx(2.0, abs=0.01))
        assert len(first) == 1 and helpers() == first
    assert not helpers()  # closed with the prober


def test_a_file_that_hangs_the_reader_is_refused_in_time_and_the_next_upload_is_heard(
    stuck: Path, recording: Path
) -> None:
    with Prober() as prober:
        prober.warm()
        hung = helpers()
        started = time.monotonic()
        with pytest.raises(NotAudio, match=r"within 0\.5 s"):
            prober.probe(stuck, timeout_s=0.5, **LIMITS)
        assert time.monotonic() - started < 5
        assert not helpers() & hung  # the stuck helper was killed, not left behind
        assert prober.probe(recording, timeout_s=10, **LIMITS).codec == "pcm_s16le"


def test_a_helper_that_dies_on_a_file_costs_that_upload_only(stuck: Path, recording: Path) -> None:
    with Prober() as prober:
        prober.warm()
        (helper,) = helpers()
        killer = threading.Timer(0.5, os.kill, (helper, signal.SIGKILL))
        killer.start()
        with pytest.raises(NotAudio, match="stopped FFmpeg's reader"):
            prober.probe(stuck, timeout_s=30, **LIMITS)
        killer.join()
        assert prober.probe(recording, timeout_s=10, **LIMITS).codec == "pcm_s16le"


def test_a_helper_killed_while_idle_is_replaced_without_failing_an_upload(recording: Path) -> None:
    with Prober() as prober:
        prober.probe(recording, timeout_s=10, **LIMITS)
        for helper in helpers():
            os.kill(helper, signal.SIGKILL)
        time.sleep(0.2)
        assert prober.probe(recording, timeout_s=10, **LIMITS).codec == "pcm_s16le"


def test_uploads_at_once_are_each_answered_and_only_keep_helpers_stay(
    recording: Path, tmp_path: Path
) -> None:
    short = tmp_path / "short.wav"
    short.write_bytes(hostile.wav(0.1))
    with Prober(keep=2) as prober, ThreadPoolExecutor(8) as pool:
        def one(n: int) -> str:
            try:
                return prober.probe(short if n % 2 else recording, timeout_s=20, **LIMITS).codec
            except NotAudio as exc:
                return str(exc)

        answers = list(pool.map(one, range(16)))
        assert answers[0::2] == ["pcm_s16le"] * 8
        assert all("0.10 s of pcm_s16le is too short" in a for a in answers[1::2])
        assert 1 <= len(helpers()) <= 2


def test_the_same_refusal_twice_names_the_format_both_times(tmp_path: Path) -> None:
    """FFmpeg's log drops a message repeated; the refusal is read from it."""
    lyrics = tmp_path / "upload"
    lyrics.write_text('[{"id": 0, "v": 0.0}, {"id": 1, "v": 0.14}]' * 50)
    with Prober() as prober:
        for _ in range(3):
            with pytest.raises(NotAudio, match="FFmpeg sees a lrc file, not a voice recording"):
                prober.probe(lyrics, timeout_s=10, **LIMITS)
