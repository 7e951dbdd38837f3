"""Is an upload a voice recording? FFmpeg says, before any worker is asked to listen.

FFmpeg decodes nearly anything as something: a JSON file passed as 0.18 s of ADPCM and
was "transcribed". So the gateway asks FFmpeg's own libraries (PyAV, the ones the speech
worker decodes with) what the file is, with only the containers phones and browsers
record in allowed and only local files readable (a playlist cannot make it open anything
else), under a time limit, in a helper process of its own: a hostile file can hang or
crash the helper, which is then killed and replaced, never the gateway. A recording is
accepted when its first audio stream is in a codec Cradle takes and its packets last at
least `min_seconds`. The speech worker still decodes and checks everything itself.

The helpers stay up between uploads (`Prober`): starting one costs about as much as the
check itself (ffprobe, run once per upload, took 90-100 ms of each spoken question; a
warm helper answers in 2-4 ms).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Demuxers (ffmpeg -demuxers) of what phones and browsers record: wav; webm/mkv (Chrome,
# Android); ogg (Firefox); mov/mp4/m4a/3gp (Safari, iOS, Android); mp3; flac; raw aac.
CONTAINERS = ("wav", "matroska", "ogg", "mov", "mp3", "flac", "aac")
CODECS = ("pcm_", "opus", "vorbis", "aac", "mp3", "flac", "alac", "amr_nb", "amr_wb")  # prefixes
TAKES = "wav, webm, ogg, mp3, m4a or flac"
HELPER_MEMORY = 1 << 30  # bytes of address space a helper may map: a bomb fails, not the machine


class NotAudio(ValueError):
    """Not a voice recording Cradle can hear; the message says what was found (HTTP 415)."""


class TooLong(ValueError):
    """A recording longer than allowed (HTTP 413)."""


class ProbeUnavailable(RuntimeError):
    """FFmpeg's libraries (PyAV) are missing: nothing can be checked (HTTP 503)."""


@dataclass(frozen=True)
class Recording:
    container: str  # FFmpeg's format name, e.g. "matroska,webm"
    codec: str  # e.g. "opus"
    seconds: float  # the audio stream's packets, end to end


class Prober:
    """Checks uploads in helper processes that stay up: one per check running at once,
    `keep` of them kept idle. Thread-safe; `close()` stops them."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._idle: list[_Helper] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start a helper now, so the first upload does not wait for one."""
        with self._lock:
            if not self._idle:
                self._idle.append(_Helper())

    def probe(self, path: Path, *, min_seconds: float, max_seconds: float, timeout_s: float) -> Recording:
        """What `path` holds, if it is a recording of `min_seconds` to `max_seconds`;
        raises NotAudio, TooLong or ProbeUnavailable otherwise. Blocking: call it in a
        thread."""
        found = self._ask(path, timeout_s)
        if "unavailable" in found:
            raise ProbeUnavailable(f"FFmpeg's libraries are missing, so uploads cannot be checked "
                                   f"({found['unavailable']}): install the project's requirements")
        if "refused" in found:
            raise NotAudio(f"FFmpeg sees a {found['refused']} file, not a voice recording: send {TAKES}")
        if "error" in found:
            raise NotAudio(f"not an audio file FFmpeg can read ({found['error'][:200]}): send {TAKES}")
        return _recording(found, min_seconds, max_seconds)

    def close(self) -> None:
        with self._lock:
            helpers, self._idle = self._idle, []
        for helper in helpers:
            helper.stop()

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _ask(self, path: Path, timeout_s: float) -> dict[str, Any]:
        helper = self._take()
        try:
            found = helper.ask(str(path), timeout_s)
        except TimeoutError as exc:
            helper.kill()
            raise NotAudio(f"FFmpeg could not tell what the upload is within {timeout_s:g} s: "
                           f"send a voice recording ({TAKES})") from exc
        except (EOFError, OSError, ValueError) as exc:  # it died on the file, or answered garbage
            helper.kill()
            raise NotAudio(f"the upload stopped FFmpeg's reader: send a voice recording ({TAKES})") from exc
        with self._lock:
            kept = len(self._idle) < self.keep
            if kept:
                self._idle.append(helper)
        if not kept:
            helper.stop()
        return found

    def _take(self) -> _Helper:
        with self._lock:
            while self._idle:
                helper = self._idle.pop()
                if helper.alive():
                    return helper
                helper.kill()  # died while idle (killed, out of memory): not this upload's fault
        return _Helper()


class _Helper:
    """One helper process: a JSON line in (the path), a JSON line out (what it found)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, path: str, timeout_s: float) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"path": path}).encode() + b"\n")
        self.process.stdin.flush()
        deadline, answer, out = time.monotonic() + timeout_s, b"", self.process.stdout.fileno()
        while not answer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise TimeoutError(path)
            chunk = os.read(out, 65536)
            if not chunk:
                raise EOFError(path)
            answer += chunk
        found: dict[str, Any] = json.loads(answer)
        return found

    def kill(self) -> None:
        self.process.kill()
        self._reap()

    def stop(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the helper ends at the end of its input
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


def _recording(found: dict[str, Any], min_seconds: float, max_seconds: float) -> Recording:
    container, codec = str(found.get("container", "unknown")), found.get("codec")
    if codec is None:
        raise NotAudio(f"no audio stream: FFmpeg sees a {container} file with {found.get('streams', 0)} "
                       f"other stream(s); send a voice recording ({TAKES})")
    codec = str(codec)
    if not codec.startswith(CODECS):
        raise NotAudio(f"{codec} audio in a {container} file is not what phones and browsers "
                       f"record: send {TAKES}")
    seconds = float(found.get("seconds", 0.0))
    if seconds < min_seconds:
        raise NotAudio(f"{seconds:.2f} s of {codec} is too short: send at least {min_seconds:g} s of speech")
    if seconds > max_seconds:
        raise TooLong(f"the recording lasts {seconds:.1f} s; the limit is {max_seconds:g} s")
    return Recording(container, codec, seconds)


def _seconds(durations: list[float | None], starts: list[float | None]) -> float:
    """How long the packets play: the sum of their durations, or first to last when the
    container gives none."""
    if durations and all(d is not None for d in durations):
        return sum(d for d in durations if d is not None)
    known = [t for t in starts if t is not None]
    return max(known) - min(known) if len(known) > 1 else 0.0


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) < 1e9 else None  # not NaN, not absurd


# -- The helper process: `python -I probe.py`, the standard library and PyAV only.

def describe(path: str) -> dict[str, Any]:
    """What FFmpeg finds in `path`: {container, streams, codec, seconds} of its first audio
    stream, or {refused: demuxer} for a container not allowed, or {error: reason}."""
    import av
    import av.logging

    with av.logging.Capture() as logs:
        try:
            container = av.open(path, options={"format_whitelist": ",".join(CONTAINERS),
                                               "protocol_whitelist": "file"})
        except av.FFmpegError as exc:
            refused = [name for _level, name, message in logs if "not on whitelist" in message]
            return {"refused": refused[0]} if refused else {"error": exc.strerror or type(exc).__name__}
    with container:
        found: dict[str, Any] = {"container": container.format.name, "streams": len(container.streams)}
        if not container.streams.audio:
            return found
        stream = container.streams.audio[0]
        durations, starts = [], []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the flush packet at the end
                    continue
                durations.append(_number(packet.duration * packet.time_base) if packet.duration else None)
                starts.append(_number(packet.pts * packet.time_base) if packet.pts is not None else None)
        except av.FFmpegError as exc:
            return {"error": exc.strerror or type(exc).__name__}
        return {**found, "codec": stream.codec_context.name, "seconds": _seconds(durations, starts)}


def serve() -> None:
    """Answer one JSON line per path read from stdin, until stdin ends."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (HELPER_MEMORY, HELPER_MEMORY))
    try:
        import av.logging

        av.logging.set_level(av.logging.ERROR)  # PyAV keeps FFmpeg's log off; the refusals are in it
        av.logging.set_skip_repeated(False)  # each upload refused by name, not "repeated"
        missing = None
    except ImportError as exc:
        missing = str(exc)
    for line in sys.stdin:
        try:
            path = str(json.loads(line)["path"])
            found = {"unavailable": missing} if missing else describe(path)
        except (ValueError, KeyError, TypeError, OSError, MemoryError) as exc:
            found = {"error": type(exc).__name__}
        sys.stdout.write(json.dumps(found) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
