"""Is an upload a voice recording? ffprobe says, before any worker is asked to listen.

FFmpeg decodes nearly anything as something: a JSON file passed as 0.18 s of ADPCM and
was "transcribed". So the gateway asks ffprobe (Debian's ffmpeg) what the file is, with
only the containers phones and browsers record in allowed and only local files readable
(a playlist cannot make it open anything else), under a time limit, in its own process
(a hostile file can hang or crash ffprobe, not the gateway). A recording is accepted
when its first audio stream is in a codec Cradle takes and its packets last at least
`min_seconds`. The speech worker still decodes and checks everything itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Demuxers (ffprobe -demuxers) of what phones and browsers record: wav; webm/mkv (Chrome,
# Android); ogg (Firefox); mov/mp4/m4a/3gp (Safari, iOS, Android); mp3; flac; raw aac.
CONTAINERS = ("wav", "matroska", "ogg", "mov", "mp3", "flac", "aac")
CODECS = ("pcm_", "opus", "vorbis", "aac", "mp3", "flac", "alac", "amr_nb", "amr_wb")  # prefixes
TAKES = "wav, webm, ogg, mp3, m4a or flac"
_DEMUXER = re.compile(r"^\[(?P<name>[\w,]+) @ [^\]]*\] Format not on whitelist", re.MULTILINE)


class NotAudio(ValueError):
    """Not a voice recording Cradle can hear; the message says what was found (HTTP 415)."""


class TooLong(ValueError):
    """A recording longer than allowed (HTTP 413)."""


class ProbeUnavailable(RuntimeError):
    """ffprobe is missing: nothing can be checked (HTTP 503)."""


@dataclass(frozen=True)
class Recording:
    container: str  # ffprobe's format name, e.g. "matroska,webm"
    codec: str  # e.g. "opus"
    seconds: float  # the audio stream's packets, end to end


def probe(path: Path, *, min_seconds: float, max_seconds: float, timeout_s: float) -> Recording:
    """What `path` holds, if it is a recording of `min_seconds` to `max_seconds`; raises
    NotAudio, TooLong or ProbeUnavailable otherwise. Blocking: call it in a thread."""
    program = shutil.which("ffprobe")
    if program is None:
        raise ProbeUnavailable("ffprobe is missing, so uploads cannot be checked: install ffmpeg")
    command = [
        program, "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", ",".join(CONTAINERS),
        "-of", "json", "-select_streams", "a",
        "-show_entries", "format=format_name,nb_streams:stream=index,codec_name:packet=stream_index,"
                         "pts_time,duration_time",
        str(path),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise NotAudio(f"ffprobe could not tell what the upload is within {timeout_s:g} s: "
                       f"send a voice recording ({TAKES})") from exc
    errors = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise NotAudio(_unreadable(errors.replace(f"{path}: ", "")))  # the path is ours, not theirs
    try:
        found = json.loads(done.stdout)
    except ValueError as exc:
        raise NotAudio(f"ffprobe's description of the upload is unreadable: send {TAKES}") from exc
    return _recording(found, min_seconds, max_seconds)


def _unreadable(errors: str) -> str:
    other = _DEMUXER.search(errors)
    if other:
        return f"ffprobe sees a {other['name']} file, not a voice recording: send {TAKES}"
    last = errors.strip().splitlines()[-1][:200] if errors.strip() else "no reason given"
    return f"not an audio file ffprobe can read ({last}): send {TAKES}"


def _recording(found: dict[str, Any], min_seconds: float, max_seconds: float) -> Recording:
    container = str(found.get("format", {}).get("format_name", "unknown"))
    streams = found.get("streams") or []
    if not streams:
        count = found.get("format", {}).get("nb_streams", 0)
        raise NotAudio(f"no audio stream: ffprobe sees a {container} file with {count} other "
                       f"stream(s); send a voice recording ({TAKES})")
    stream = streams[0]
    codec = str(stream.get("codec_name", "unknown"))
    if not codec.startswith(CODECS):
        raise NotAudio(f"{codec} audio in a {container} file is not what phones and browsers "
                       f"record: send {TAKES}")
    seconds = _seconds([p for p in found.get("packets", []) if p.get("stream_index") == stream.get("index")])
    if seconds < min_seconds:
        raise NotAudio(f"{seconds:.2f} s of {codec} is too short: send at least {min_seconds:g} s of speech")
    if seconds > max_seconds:
        raise TooLong(f"the recording lasts {seconds:.1f} s; the limit is {max_seconds:g} s")
    return Recording(container, codec, seconds)


def _seconds(packets: list[dict[str, Any]]) -> float:
    """How long the packets play: the sum of their durations, or first to last when the
    container gives none."""
    durations = [_number(p.get("duration_time")) for p in packets]
    if packets and all(d is not None for d in durations):
        return sum(d for d in durations if d is not None)
    starts = [t for t in (_number(p.get("pts_time")) for p in packets) if t is not None]
    return max(starts) - min(starts) if len(starts) > 1 else 0.0


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) < 1e9 else None  # not NaN, not absurd
