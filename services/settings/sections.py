"""One section of Cradle's settings per part. Every field has a default, a bound and a
description; unknown keys are rejected so a typo fails loudly instead of being ignored."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from models.caption.safety import Period
from services.settings.base import Section
from services.settings.limits import GatewayLimits


def refuse_twice(names: list[str], what: str) -> None:
    """A list that must name each thing once: say which names appear twice."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{what} must differ: {', '.join(twice)} appear twice")


class RedisSettings(Section):
    url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:port/db). Empty: Cradle runs its own embedded "
        "redis-server on a free port, with its data under data_dir/redis.",
    )
    embedded_fallback: bool = Field(
        default=True,
        description="When the configured Redis cannot be reached at start, run the embedded "
        "one instead of refusing to start.",
    )
    socket_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Seconds a Redis command may take before it fails."
    )
    max_connections: int = Field(
        default=64, ge=2, le=10_000, description="Connections in each process's Redis pool."
    )

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return url


class BusSettings(Section):
    stream: str = Field(
        default="cradle:events", min_length=1, max_length=200,
        description="Redis Stream that carries Cradle's events.",
    )
    dead_letter_stream: str = Field(
        default="cradle:events:dead", min_length=1, max_length=200,
        description="Stream where events that cannot be handled are parked for a person.",
    )
    maxlen: int = Field(
        default=200_000, ge=1_000, le=50_000_000,
        description="Approximate cap on the event stream's length (XADD MAXLEN ~).",
    )
    max_deliveries: int = Field(
        default=5, ge=1, le=100,
        description="Deliveries of one event before it is parked in the dead-letter stream.",
    )
    claim_idle_ms: int = Field(
        default=30_000, ge=100, le=3_600_000,
        description="An event pending this long with a silent consumer is reclaimed by another.",
    )
    block_ms: int = Field(
        default=1_000, ge=10, le=60_000, description="How long one read waits for new events."
    )
    heartbeat_every_ms: int = Field(
        default=500, ge=10, le=60_000,
        description="How often a consumer renews its heartbeat and looks for dead consumers "
        "of its group to take over.",
    )
    heartbeat_ttl_ms: int = Field(
        default=1_500, ge=50, le=600_000,
        description="A consumer whose heartbeat is older than this is dead: its pending events "
        "are taken over at once. Must exceed block_ms and twice heartbeat_every_ms.",
    )
    batch: int = Field(default=64, ge=1, le=10_000, description="Events read per round trip.")
    done_ttl_s: int = Field(
        default=7 * 24 * 3600, ge=60, le=90 * 24 * 3600,
        description="How long a handled event id is remembered to drop duplicates.",
    )

    @field_validator("heartbeat_ttl_ms")
    @classmethod
    def _heartbeat_outlives_a_round(cls, ttl_ms: int, info: ValidationInfo) -> int:
        # An idle consumer blocks in its read; it must beat again before its heartbeat ends.
        block_ms, every_ms = info.data.get("block_ms", 0), info.data.get("heartbeat_every_ms", 0)
        if ttl_ms <= block_ms or ttl_ms < 2 * every_ms:
            raise ValueError(f"must exceed block_ms ({block_ms}) and twice heartbeat_every_ms "
                             f"({every_ms}), or live consumers look dead")
        return ttl_ms


class CelerySettings(Section):
    visibility_timeout_s: int = Field(
        default=3_600, ge=60, le=7 * 24 * 3600,
        description="Seconds before a task taken by a worker that vanished is handed to "
        "another. Must exceed the longest task (see task_time_limit_s) or tasks run twice.",
    )
    task_time_limit_s: int = Field(
        default=600, ge=5, le=24 * 3600, description="Hard limit: a task running longer is killed."
    )
    task_soft_time_limit_s: int = Field(
        default=540, ge=1, le=24 * 3600,
        description="Soft limit: the task is told to stop (SoftTimeLimitExceeded).",
    )
    result_expires_s: int = Field(
        default=3_600, ge=60, le=7 * 24 * 3600, description="Seconds task results are kept."
    )
    vision_concurrency: int = Field(
        default=0, ge=0, le=64,
        description="Worker processes for the vision queue; 0: one per CPU core when the "
        "models run on the CPU, one on a GPU.",
    )
    speech_concurrency: int = Field(
        default=1, ge=1, le=64, description="Worker processes for the speech queue."
    )
    default_concurrency: int = Field(
        default=2, ge=1, le=64, description="Worker processes for the default queue."
    )
    speech_nice: int = Field(
        default=4, ge=0, le=19,
        description="CPU priority (nice) of the speech worker under `cradle up`: below the "
        "gateway and the chatbot, so a typed question is answered while a spoken one is being "
        "recognised (which holds every core for about a second), above vision and training.",
    )
    vision_nice: int = Field(
        default=10, ge=0, le=19,
        description="CPU priority (nice) of the vision worker under `cradle up`: below the "
        "speech worker and the gateway, so a question by voice is answered while the camera runs.",
    )
    training_nice: int = Field(
        default=15, ge=0, le=19,
        description="CPU priority (nice) of the training worker under `cradle up`: last, after vision.",
    )
    extra_include: list[str] = Field(
        default_factory=list, max_length=32,
        description="Further task modules the workers import (deployment plug-ins, tests).",
    )


class GatewaySettings(Section):
    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on.")
    port: int = Field(default=8080, ge=1, le=65_535, description="HTTP port of the gateway.")
    public_docs: bool = Field(
        default=False,
        description="Serve /docs and /openapi.json without a token (development only).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the gateway."
    )
    ready_timeout_s: float = Field(
        default=1.0, gt=0, le=30, description="Seconds each /ready check may take."
    )
    limits: GatewayLimits = Field(
        default_factory=GatewayLimits,
        description="Body, header and time limits on each request (services/settings/limits.py).",
    )


class CameraSource(Section):
    """One camera: where its pictures come from and whose cot it watches."""

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="Short name (lower case, digits, - and _): it names the frames folder.",
    )
    child: str = Field(min_length=1, max_length=100,
                       description="The child this camera watches (its id), until the family gives the "
                       "camera to another child in the family store.")
    room: str = Field(default="nursery", min_length=1, max_length=100, description="Where it hangs.")
    source: str = Field(
        min_length=1, max_length=2000,
        description="rtsp:// or http(s):// video stream, http(s):// snapshot URL (ends in "
        ".jpg/.jpeg/.png or has 'snapshot' in it), a folder a camera writes images into, or "
        "a video file.",
    )
    snapshot: bool | None = Field(
        default=None,
        description="Treat an http(s) source as a snapshot URL (true) or a stream (false); "
        "empty: guessed from the URL.",
    )
    loop: bool = Field(default=True, description="Play a video file again from the start when it ends.")
    sample_hz: float | None = Field(
        default=None, gt=0, le=30, description="This camera's sampling rate; empty: camera.sample_hz."
    )
    motion_threshold: float | None = Field(
        default=None, ge=0, le=1,
        description="This camera's motion threshold; empty: camera.motion_threshold.",
    )


class CameraSettings(Section):
    cameras: list[CameraSource] = Field(
        default_factory=list, max_length=64,
        description="The cameras, each bound to a child and a room. Empty: the demo camera "
        "(when camera.demo is on).",
    )
    demo: bool = Field(
        default=True,
        description="With no camera configured, play a generated clip of the synthetic nursery "
        "as a camera, so moods flow right after `cradle up`.",
    )
    sample_hz: float = Field(
        default=1.0, gt=0, le=30, description="Frames per second taken from each camera."
    )
    motion_threshold: float = Field(
        default=0.01, ge=0, le=1,
        description="Share of pixels that must change for a frame to count as motion "
        "(0 keeps every frame).",
    )
    motion_pixel_delta: int = Field(
        default=25, ge=1, le=255,
        description="Grey-level difference (0-255) for a pixel to count as changed.",
    )
    still_every_s: float = Field(
        default=60.0, ge=0, le=3600,
        description="Keep a frame this often even without motion, so a sleeping child is still "
        "seen; 0 keeps only frames with motion.",
    )
    retention_hours: int = Field(
        default=72, ge=1, le=24 * 365, description="Hours stored frames are kept."
    )
    disk_budget_mb: int = Field(
        default=2_048, ge=16, le=10_000_000,
        description="Disk the stored frames may use; the oldest go first.",
    )
    prune_every_s: float = Field(
        default=60.0, ge=1, le=3600, description="How often old frames are removed."
    )
    jpeg_quality: int = Field(default=85, ge=30, le=100, description="JPEG quality of stored frames.")
    max_side: int = Field(
        default=1280, ge=64, le=8192,
        description="Frames larger than this (pixels, longer side) are scaled down before storing.",
    )
    offline_after_s: float = Field(
        default=10.0, gt=0, le=600,
        description="A camera that cannot connect or sends no picture for this long is offline.",
    )
    retry_initial_s: float = Field(
        default=1.0, gt=0, le=600, description="First wait before reconnecting an offline camera."
    )
    retry_max_s: float = Field(
        default=60.0, gt=0, le=3600, description="Longest wait between reconnections (it doubles)."
    )
    max_batches_in_flight: int = Field(
        default=0, ge=0, le=64,
        description="Vision batches sent and not yet finished before newer frames wait (and "
        "replace older ones); 0: as many as the vision worker has processes (see "
        "celery.vision_concurrency); set it to their number where the camera runs apart.",
    )
    batch_expires_s: float = Field(
        default=30.0, ge=1, le=3600,
        description="A batch not analysed within this long is stale: workers skip it and the "
        "camera stops waiting for it.",
    )

    @field_validator("cameras")
    @classmethod
    def _unique_names(cls, cameras: list[CameraSource]) -> list[CameraSource]:
        refuse_twice([camera.name for camera in cameras], "camera names")
        return cameras


class RunSettings(Section):
    """Runs of one mood, as the alerts and the timeline both read them: when a sleep ended
    and she woke is the same moment in an alert and in the chatbot's reply."""

    switch_frames: int = Field(
        default=3, ge=1, le=100,
        description="Frames in a row of other moods that end a mood (fewer are odd frames).",
    )
    max_gap_s: float = Field(
        default=300, ge=5, le=24 * 3600,
        description="No frame for this long breaks a mood: the camera saw nothing in between.",
    )


class TimelineSettings(Section):
    retention_days: float = Field(
        default=30.0, gt=0, le=3650, description="Days of events kept on each child's timeline."
    )


class ModelSettings(Section):
    dir: Path = Field(
        default=Path("var/models"),
        description="Folder holding weights and trained checkpoints (found here first).",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Where models run: auto picks CUDA when present."
    )
    mood_checkpoint: Path | None = Field(
        default=None,
        description="The family's trained mood model; empty: the demo model under "
        "models.dir/mood/demo.pt, trained at set-up on synthetic faces.",
    )
    vision_batch: int = Field(
        default=16, ge=1, le=256, description="Most frames the vision worker puts through one pass."
    )
    vision_threads: int = Field(
        default=0, ge=0, le=256,
        description="CPU threads of each vision worker process's models; 0: the cores shared "
        "among the processes (one each when there is a process per core).",
    )
    caption_checkpoint: Path | None = Field(
        default=None,
        description="The family's trained captioner; empty: the demo model under "
        "models.dir/caption/demo.pt (trained at set-up on synthetic scenes), or no captions "
        "when that is missing.",
    )
    caption_beam: int = Field(default=3, ge=1, le=10, description="Beam width of caption decoding.")
    safety_rules: Path | None = Field(
        default=None,
        description="YAML file of caption safety rules; empty: models/caption/safety.yaml.",
    )


class SpeechSettings(Section):
    backend: Literal["faster", "openai"] = Field(
        default="faster",
        description="Whisper implementation: faster (CTranslate2, int8 on CPU) or openai "
        "(the reference PyTorch code, from a checkpoint converted at first use).",
    )
    model: str = Field(
        default="base", min_length=1, max_length=300,
        description="Whisper model: tiny.en, base, or a path to local weights.",
    )
    language: str | None = Field(
        default=None, max_length=10, description="Spoken language (en, fr, ...); empty detects it."
    )
    beam_size: int = Field(default=1, ge=1, le=10, description="Beam width; 1 decodes greedily.")
    initial_prompt: str | None = Field(
        default=None, max_length=500,
        description="Words to help Whisper spell (names, game names); unset: the children's names "
        "and what Cradle is asked about, from the family store. Empty: no prompt.",
    )
    threads: int = Field(
        default=0, ge=0, le=256, description="CPU threads for recognition; 0 lets the library choose."
    )
    max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024,
        description="Largest voice upload accepted, in bytes.",
    )
    max_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Longest voice message accepted, in seconds."
    )
    min_seconds: float = Field(
        default=0.3, ge=0, le=10,
        description="Shortest voice message accepted, in seconds: less is not a question.",
    )
    probe_timeout_s: float = Field(
        default=5.0, gt=0, le=60,
        description="Seconds FFmpeg may take to say what an upload is before it is refused.",
    )
    timeout_s: float = Field(
        default=60.0, gt=0, le=600, description="Seconds the gateway waits for a transcript."
    )
    tts_engine: Literal["piper", "espeak"] = Field(
        default="piper", description="Voice of spoken replies: piper (natural) or espeak-ng."
    )
    tts_format: Literal["ogg", "wav"] = Field(
        default="ogg", description="Audio format of spoken replies (ogg/opus is ten times smaller)."
    )


class ChildSettings(Section):
    """A child the family watches over: how the cameras name them and how Cradle speaks of them."""

    id: str = Field(
        min_length=1, max_length=100,
        description="The child's id as the cameras name it (camera.cameras[].child).",
    )
    name: str = Field(default="", max_length=100, description="Spoken name; empty: the id.")
    pronoun: Literal["she", "he", "they"] = Field(
        default="they", description="How replies speak of the child: she, he or they."
    )
    born: date | None = Field(
        default=None,
        description="Date of birth (YYYY-MM-DD): a game asked for with no age suits the child's.",
    )

    @property
    def spoken_name(self) -> str:
        return self.name or self.id


class FamilySettings(Section):
    children: list[ChildSettings] = Field(
        default_factory=lambda: [ChildSettings(id="Baby", name="Baby", pronoun="she")],
        min_length=1, max_length=16,
        description="The children Cradle starts with, first one the default when a question names "
        "none; they seed the family store (`cradle family`, the Family screen), which every part "
        "reads after that. The default matches the demo camera's child.",
    )

    timezone: str = Field(
        default="UTC",
        description="The family's time zone (IANA name, e.g. Europe/Paris): every time of day "
        "Cradle reads or says (night, quiet hours, training and backup hours, replies) is local to it.",
    )
    night_start: time = Field(
        default=time(19, 0),
        description="When night begins: an empty cot is an alert at night only, and the caption "
        "safety rules' `during: night` is this window.",
    )
    night_end: time = Field(default=time(7, 0), description="When night ends.")

    @field_validator("children")
    @classmethod
    def _unique_children(cls, children: list[ChildSettings]) -> list[ChildSettings]:
        refuse_twice([child.id for child in children], "child ids")
        return children

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/Paris)") from exc
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, at: datetime) -> datetime:
        """`at` in the family's local time."""
        return at.astimezone(self.zone)

    @property
    def night(self) -> Period:
        """The family's night, as the alerts and the caption safety rules both read it."""
        return Period(self.night_start, self.night_end)

    def is_night(self, at: datetime) -> bool:
        return self.night.contains(self.local(at).time())


class RasaSettings(Section):
    enabled: bool = Field(
        default=True,
        description="Whether the chatbot (Rasa server and action server) is part of the stack "
        "and counted by /ready.",
    )
    url: str = Field(
        default="http://127.0.0.1:5005", pattern=r"^https?://",
        description="Base URL of the Rasa server.",
    )
    venv: Path = Field(
        default=Path(".venv-rasa"),
        description="Python 3.10 virtual environment that holds Rasa.",
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds to wait for one Rasa reply."
    )
    actions_url: str = Field(
        default="http://127.0.0.1:5055/webhook", pattern=r"^https?://",
        description="The action server's webhook, as the Rasa server reaches it.",
    )
    actions_host: str = Field(
        default="127.0.0.1", min_length=1,
        description="Address the action server listens on. `cradle up` makes it the host "
        "actions_url names; docker-compose sets 0.0.0.0 (every address) in its container.",
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="Token for Rasa's HTTP API (models, trackers); the chat webhook needs none. "
        "Set it when Rasa listens beyond localhost.",
    )
    conversation_days: float = Field(
        default=30.0, gt=0, le=3650, description="Days a conversation is kept in Redis after its last turn."
    )
    start_timeout_s: float = Field(
        default=180.0, gt=0, le=1800,
        description="Seconds `cradle up` waits for Rasa to load its model and answer.",
    )


class AuthSettings(Section):
    token_cache_s: float = Field(
        default=30.0, ge=0, le=600,
        description="While Redis is unreachable, a token verified this recently is still "
        "accepted, so /ready and monitoring keep answering during an outage.",
    )


class SceneTag(Section):
    """One thing a caregiver can say a frame shows; the captioner learns to see it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Its id (safety rules name it).")
    label: str = Field(min_length=1, max_length=60, description="How the app shows it.")
    phrases: list[str] = Field(
        min_length=1, max_length=10,
        description="How a caption says it; {b} becomes 'the baby' and {c} 'cot' (and synonyms).",
    )


def _tag(name: str, label: str, *phrases: str) -> SceneTag:
    return SceneTag(name=name, label=label, phrases=list(phrases))


DEFAULT_TAGS = [
    _tag("in_cot", "In the cot", "{b} is in the {c}", "{b} is lying in the {c}"),
    _tag("on_floor", "On the floor", "{b} is on the floor", "{b} is playing on the floor"),
    _tag("near_stairs", "Near the stairs", "{b} is near the stairs", "{b} is crawling by the staircase"),
    _tag("at_window", "At the window", "{b} is at the window", "{b} is standing by the window"),
    _tag("climbing", "Climbing", "{b} is climbing out of the {c}", "{b} climbs over the side of the {c}"),
    _tag("cot_empty", "Cot empty", "the {c} is empty", "nobody is in the {c}"),
    _tag("held", "Held by an adult", "an adult is holding {b}", "a parent holds {b}"),
    _tag("other_adult", "Another adult in the room", "another adult is in the room",
         "a grown-up is in the room"),
]


class TeachSettings(Section):
    """How the family teaches Cradle: labels, the retraining job and its promotion gate."""

    tags: list[SceneTag] = Field(
        default_factory=lambda: list(DEFAULT_TAGS), min_length=1, max_length=32,
        description="The scene tags a frame can be given (safety rules map some to hazards).",
    )
    held_out_fraction: float = Field(
        default=0.25, gt=0, lt=0.8,
        description="Share of labelled days kept aside to score every model; a day once kept "
        "aside is never trained on.",
    )
    min_new_labels: int = Field(
        default=40, ge=1, le=100_000, description="New labels since the last run before a run is due."
    )
    min_per_mood: int = Field(
        default=10, ge=1, le=10_000, description="Labels of each mood before a mood model is trained."
    )
    min_tagged: int = Field(
        default=30, ge=1, le=100_000, description="Frames with scene tags before a captioner is trained."
    )
    hour: int | None = Field(
        default=3, ge=0, le=23,
        description="Local hour at which a due run starts (night: the machine is idle); empty: at once.",
    )
    check_every_s: float = Field(
        default=60.0, ge=5, le=3600, description="How often the training worker checks whether a run is due."
    )
    time_limit_s: int = Field(
        default=3000, ge=60, le=24 * 3600, description="Longest one training run may take."
    )
    mood_epochs: int = Field(default=20, ge=1, le=500, description="Epochs of the mood head.")
    mood_finetune_epochs: int = Field(
        default=4, ge=0, le=500,
        description="Epochs with the mood model's backbone unfrozen (discriminative rates), which "
        "reads a real nursery's faces better; the worker then runs a second backbone pass per "
        "frame (the captioner keeps the frozen one). 0 keeps one shared pass (many cameras).",
    )
    augment: bool = Field(default=True, description="Augment the family's pictures while training.")
    caption_epochs: int = Field(default=20, ge=1, le=500, description="Epochs of the captioner.")
    margin: float = Field(
        default=0.02, ge=0, le=1, description="How much better a candidate must score to be promoted."
    )
    mood_accuracy_floor: float = Field(default=0.6, ge=0, le=1, description="Lowest accuracy promoted.")
    mood_recall_floor: float = Field(
        default=0.3, ge=0, le=1, description="Lowest recall of any held-out mood promoted."
    )
    hazard_recall_floor: float = Field(default=0.6, ge=0, le=1, description="Lowest hazard recall promoted.")
    hazard_precision_floor: float = Field(
        default=0.5, ge=0, le=1, description="Lowest hazard precision promoted."
    )

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[SceneTag]) -> list[SceneTag]:
        refuse_twice([tag.name for tag in tags], "scene tag names")
        return tags

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @property
    def phrases(self) -> dict[str, list[str]]:
        return {tag.name: tag.phrases for tag in self.tags}
