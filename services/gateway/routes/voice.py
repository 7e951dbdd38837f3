"""Voice: `POST /api/transcribe` (words only) and `POST /api/voice` (words, the assistant's
reply and the reply spoken), with the latency of each stage logged and returned.

An upload is probed (services/gateway/probe.py) before the speech task is sent: what is
not a recording of real length is refused at once, 415 saying what it is, and never
queued for a worker that would "transcribe" it."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from models.speech.asr import NO_SPEECH_REPLY
from services.gateway.chat import ChatUnavailable, reply
from services.gateway.deps import CurrentUser, State
from services.gateway.probe import NotAudio, ProbeUnavailable, TooLong
from services.gateway.state import GatewayState
from services.tasks import SPEAK, TRANSCRIBE, wait_for_task

router = APIRouter(prefix="/api", tags=["voice"])
log = logging.getLogger("cradle.voice")

# What the speech worker reports for a bad upload -> the HTTP answer.
UPLOAD_ERRORS = {
    "EmptyAudio": status.HTTP_400_BAD_REQUEST,
    "CorruptAudio": status.HTTP_400_BAD_REQUEST,
    "UnsupportedAudio": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "AudioTooLarge": status.HTTP_413_CONTENT_TOO_LARGE,
    "AudioTooLong": status.HTTP_413_CONTENT_TOO_LARGE,
}


class Segment(BaseModel):
    start: float
    end: float
    text: str


class TranscriptOut(BaseModel):
    transcript: str
    language: str
    duration_s: float
    segments: list[Segment]
    backend: str
    timings_ms: dict[str, float]


class VoiceReply(TranscriptOut):
    reply_text: str | None
    reply_audio_url: str | None


Audio = Annotated[UploadFile, File(description="A recorded voice message (wav, webm, ogg, mp3, m4a).")]


async def _store(state: GatewayState, audio: UploadFile) -> str:
    limit = state.settings.speech.max_bytes
    data = await audio.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"the upload is over the {limit}-byte limit"
        )
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the upload is empty: send a recorded audio file")
    audio_id = uuid.uuid4().hex
    folder = state.settings.audio_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / audio_id).write_bytes(data)
    return audio_id


async def _check(state: GatewayState, audio_id: str) -> None:
    """Refuse a stored upload that is not a voice recording (the prober, in a thread)."""
    speech = state.settings.speech
    try:
        await run_in_threadpool(state.prober.probe, state.settings.audio_dir / audio_id,
                                min_seconds=speech.min_seconds, max_seconds=speech.max_seconds,
                                timeout_s=speech.probe_timeout_s)
    except NotAudio as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
    except TooLong as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from exc
    except ProbeUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


async def _transcribe(
    state: GatewayState, audio: UploadFile, user: str, timings: dict[str, float]
) -> dict[str, Any]:
    started = time.perf_counter()
    audio_id = await _store(state, audio)
    try:
        await _check(state, audio_id)
        timings["upload"] = round((time.perf_counter() - started) * 1000, 1)  # received, stored, probed
        started = time.perf_counter()
        outcome = await run_in_threadpool(wait_for_task, state.celery, TRANSCRIBE, [audio_id, user],
                                          state.settings.speech.timeout_s)
    except HTTPException:
        raise
    except Exception as exc:
        log.exception("speech worker failed")
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"speech recognition is unavailable: {type(exc).__name__}"
        ) from exc
    finally:
        (state.settings.audio_dir / audio_id).unlink(missing_ok=True)
    timings["asr"] = round((time.perf_counter() - started) * 1000, 1)  # queue, decode, recognise
    if not outcome["ok"]:
        code = UPLOAD_ERRORS.get(outcome["error"], status.HTTP_400_BAD_REQUEST)
        raise HTTPException(code, outcome["message"])
    timings.update({f"worker_{stage}": ms for stage, ms in outcome["timings_ms"].items()})
    transcript: dict[str, Any] = outcome["transcript"]
    return transcript


def _out(transcript: dict[str, Any], timings: dict[str, float]) -> dict[str, Any]:
    return {
        "transcript": transcript["text"],
        "language": transcript["language"],
        "duration_s": transcript["duration"],
        "segments": transcript["segments"],
        "backend": transcript["backend"],
        "timings_ms": timings,
    }


@router.post("/transcribe", response_model=TranscriptOut, summary="A voice message's words")
async def transcribe(audio: Audio, user: CurrentUser, state: State) -> dict[str, Any]:
    timings: dict[str, float] = {}
    transcript = await _transcribe(state, audio, user.name, timings)
    log.info("transcribed", extra={"timings_ms": timings, "seconds": transcript["duration"]})
    return _out(transcript, timings)


@router.post("/voice", response_model=VoiceReply, summary="Ask by voice; get words and a spoken reply")
async def voice(audio: Audio, user: CurrentUser, state: State) -> dict[str, Any]:
    timings: dict[str, float] = {}
    transcript = await _transcribe(state, audio, user.name, timings)
    started = time.perf_counter()
    if transcript["text"]:
        try:
            reply_text = await reply(state.http, state.settings.rasa, user.name, transcript["text"])
        except ChatUnavailable as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    else:
        reply_text = NO_SPEECH_REPLY
    timings["chatbot"] = round((time.perf_counter() - started) * 1000, 1)
    reply_audio_url = None
    if reply_text:
        started = time.perf_counter()
        try:
            spoken = await run_in_threadpool(wait_for_task, state.celery, SPEAK, [reply_text],
                                             state.settings.speech.timeout_s)
            reply_audio_url = f"/api/voice/replies/{spoken['file']}"
        except Exception:
            log.exception("the reply could not be spoken; answering in words only")
        timings["tts"] = round((time.perf_counter() - started) * 1000, 1)
    log.info("voice round trip", extra={"timings_ms": timings, "seconds": transcript["duration"]})
    return {**_out(transcript, timings), "reply_text": reply_text, "reply_audio_url": reply_audio_url}


@router.get("/voice/replies/{name}", summary="A spoken reply", response_class=FileResponse)
def spoken_reply(name: str, _user: CurrentUser, state: State) -> FileResponse:
    stem, _, suffix = name.partition(".")
    if len(stem) != 64 or not all(c in "0123456789abcdef" for c in stem) or suffix not in ("ogg", "wav"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reply")
    path = Path(state.settings.replies_dir) / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reply")
    return FileResponse(path, media_type="audio/ogg" if suffix == "ogg" else "audio/wav")
