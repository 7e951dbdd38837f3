"""Speech tasks: a voice upload (by reference) to its transcript, and text to spoken audio.

The gateway stores an upload under data_dir/audio/<audio_id> and sends the id. A bad
upload (corrupt, wrong type, too long) is the sender's mistake, not the worker's: the
task returns it as an error the gateway turns into a 4xx, and the worker serves on.
"""

from __future__ import annotations

import re
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import redis

from models.speech import (
    AudioError,
    AudioLimits,
    DecodeOptions,
    Speaker,
    SpeechModel,
    decode_audio,
    load_model,
    make_engine,
    transcribe_samples,
)
from services import tasks
from services.bus.events import SpeechTranscribed
from services.family import FamilyStore
from services.settings import Settings
from workers.base import ModelTask
from workers.celery_app import app

AUDIO_ID = re.compile(r"^[0-9a-f]{32}$")
# What the family asks about, so Whisper spells it as they mean it ("nap", not "net").
TOPIC_WORDS = "sleep, naps, feeds, mood, alerts and games"
KEEP_REPLIES = 2_000  # spoken replies kept on disk; the oldest go first


def family_prompt(names: list[str]) -> str:
    """A Whisper prompt from the children's names and what Cradle is asked about: Whisper
    continues the prompt's vocabulary, so "Harper" and "nap" come out spelled right."""
    about = f" about {', '.join(names)}" if names else ""
    return f"Questions to Cradle{about}: {TOPIC_WORDS}."


def prompt_for(settings: Settings, client: redis.Redis) -> str | None:
    """speech.initial_prompt when set, else one from the family's names in the store; no
    prompt when Redis fails."""
    if settings.speech.initial_prompt is not None:
        return settings.speech.initial_prompt
    try:
        children = FamilyStore(client, settings).children()
    except redis.RedisError:
        return None
    return family_prompt([name for child in children for name in (child.spoken_name, *child.nicknames)])


def prune_replies(folder: Path, keep: int = KEEP_REPLIES) -> int:
    """Delete all but the `keep` most recently written replies; returns how many went."""
    files = sorted(folder.glob("*.*"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)
    return max(0, len(files) - keep)


class SpeechTask(ModelTask):
    abstract = True

    def load_model(self) -> SpeechModel:
        speech = self.settings.speech
        return load_model(
            speech.model,
            device=self.settings.models.device,
            backend=speech.backend,
            models_dir=self.settings.models_dir,
            threads=speech.threads,
        )

    def prompt(self) -> str | None:
        """The Whisper prompt, read on each call, so a child named a minute ago is spelled right."""
        return prompt_for(self.settings, self.publisher.client)

    @cached_property
    def speaker(self) -> Speaker:
        speech = self.settings.speech
        engine = make_engine(speech.tts_engine, self.settings.models_dir)
        return Speaker(engine, speech.tts_format, cache_dir=self.settings.replies_dir)


@app.task(name=tasks.TRANSCRIBE, base=SpeechTask, bind=True)
def transcribe_upload(self: SpeechTask, audio_id: str, user: str) -> dict[str, Any]:
    """{"ok": true, "transcript": {...}} or {"ok": false, "error": kind, "message": ...}."""
    if not AUDIO_ID.match(audio_id):
        return {"ok": False, "error": "BadReference", "message": f"not an audio id: {audio_id!r}"}
    path = self.settings.audio_dir / audio_id
    if not path.is_file():
        return {"ok": False, "error": "MissingAudio", "message": "the upload is gone; send it again"}
    speech = self.settings.speech
    limits = AudioLimits(max_bytes=speech.max_bytes, max_seconds=speech.max_seconds)
    options = DecodeOptions(language=speech.language, beam_size=speech.beam_size,
                            initial_prompt=self.prompt())
    started = time.perf_counter()
    try:
        samples = decode_audio(path.read_bytes(), limits)
    except AudioError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    decoded = time.perf_counter()
    transcript = transcribe_samples(self.model, samples, options)
    timings = {
        "decode": round((decoded - started) * 1000, 1),
        "recognise": round((time.perf_counter() - decoded) * 1000, 1),
    }
    self.publisher.publish(
        SpeechTranscribed(
            id=audio_id,  # a redelivered upload is the same event
            audio_id=audio_id,
            user=user,
            text=transcript.text,
            language=transcript.language,
            duration_s=transcript.duration,
            backend=transcript.backend,
            source="speech",
        )
    )
    return {"ok": True, "transcript": transcript.to_dict(), "timings_ms": timings}


@app.task(name=tasks.SPEAK, base=SpeechTask, bind=True)
def speak(self: SpeechTask, text: str) -> dict[str, str]:
    """Synthesise `text` (cached by text); returns the file name under data_dir/replies."""
    path = self.speaker.synthesize_file(text)
    if self.request.id and int(self.request.id[-2:], 16) < 8:  # now and then, not every call
        prune_replies(path.parent)
    return {"file": path.name}
