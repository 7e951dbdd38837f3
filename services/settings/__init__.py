"""Cradle's one settings tree.

Sources, strongest first: arguments, environment (`CRADLE_` prefix, `__` between a section
and its field, e.g. `CRADLE_REDIS__URL`), a `.env` file, a YAML file named by
`CRADLE_CONFIG_FILE`, then the defaults. Nothing else in Cradle reads the environment.

`load_settings()` validates everything at start and raises `SettingsError` whose message
names each bad field, its environment variable and what to set instead; a key that has
moved (`MOVED`, e.g. alerts.timezone -> family.timezone) is refused with where it went.
"""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from services.settings.alerts import AlertRules
from services.settings.backup import BackupSettings
from services.settings.delivery import DeliverySettings
from services.settings.https import HttpsSettings
from services.settings.sections import (
    AuthSettings,
    BusSettings,
    CameraSettings,
    CelerySettings,
    FamilySettings,
    GatewaySettings,
    ModelSettings,
    RasaSettings,
    RedisSettings,
    RunSettings,
    SpeechSettings,
    TeachSettings,
    TimelineSettings,
)

ENV_PREFIX = "CRADLE_"
CONFIG_FILE_VAR = "CRADLE_CONFIG_FILE"
# Variables with the prefix that are not settings: the config file's name, and the set-up
# script's cache folder and Pythons.
NOT_SETTINGS = {CONFIG_FILE_VAR, "CRADLE_CACHE", "CRADLE_PYTHON", "CRADLE_PYTHON310"}
# Settings that have moved: an old file or variable is refused with where each went.
MOVED = {
    "alerts.timezone": "family.timezone",
    "alerts.night_start": "family.night_start",
    "alerts.night_end": "family.night_end",
    "alerts.switch_frames": "runs.switch_frames",
    "alerts.max_gap_s": "runs.max_gap_s",
}

__all__ = ["Settings", "SettingsError", "get_settings", "load_settings"]


class SettingsError(RuntimeError):
    """Settings that Cradle cannot start with; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        env_parse_none_str="null",  # CRADLE_TEACH__HOUR=null empties a setting that may be empty
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for Cradle's state: embedded Redis data, logs, frames, run files.",
    )
    environment: str = Field(
        default="home", pattern=r"^(home|development|test)$",
        description="home for a family's deployment; development and test relax nothing "
        "about auth but allow public API docs.",
    )
    redis: RedisSettings = Field(default_factory=RedisSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    camera: CameraSettings = Field(default_factory=CameraSettings)
    alerts: AlertRules = Field(default_factory=AlertRules)
    runs: RunSettings = Field(default_factory=RunSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    timeline: TimelineSettings = Field(default_factory=TimelineSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    family: FamilySettings = Field(default_factory=FamilySettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    teach: TeachSettings = Field(default_factory=TeachSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    https: HttpsSettings = Field(default_factory=HttpsSettings)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.celery.task_soft_time_limit_s >= self.celery.task_time_limit_s:
            raise ValueError(
                "celery.task_soft_time_limit_s must be below celery.task_time_limit_s"
            )
        if self.celery.visibility_timeout_s <= self.celery.task_time_limit_s:
            raise ValueError(
                "celery.visibility_timeout_s must exceed celery.task_time_limit_s, or a "
                "long task is handed to a second worker while the first still runs it"
            )
        if self.celery.visibility_timeout_s <= self.teach.time_limit_s:
            raise ValueError(
                "celery.visibility_timeout_s must exceed teach.time_limit_s, or a training run "
                "is handed to a second worker while the first still trains"
            )
        if self.gateway.public_docs and self.environment == "home":
            raise ValueError("gateway.public_docs is for development: set environment=development")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get(CONFIG_FILE_VAR)
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    # Paths are stored as given; these resolve them once, relative to the working folder.
    @property
    def run_dir(self) -> Path:
        return (self.data_dir / "run").resolve()

    @property
    def log_dir(self) -> Path:
        return (self.data_dir / "logs").resolve()

    @property
    def models_dir(self) -> Path:
        return self.models.dir.resolve()

    @property
    def audio_dir(self) -> Path:
        """Voice uploads waiting for the speech worker (removed once transcribed)."""
        return (self.data_dir / "audio").resolve()

    @property
    def replies_dir(self) -> Path:
        """Spoken replies, cached by text."""
        return (self.data_dir / "replies").resolve()

    @property
    def frames_dir(self) -> Path:
        """Where camera frames are stored; events and tasks name frames relative to it."""
        return (self.data_dir / "frames").resolve()

    # How the camera's frames are analysed on this machine, when the settings leave it open.
    @property
    def vision_processes(self) -> int:
        """Vision worker processes: `celery.vision_concurrency`, else one per CPU core when
        the models run on the CPU (each with one torch thread: on 2 cores, two processes
        analyse 1.7x the frames/s of one process with two threads, whose threads wait for
        each other at every layer and idle while it decodes), and one on a GPU."""
        if self.celery.vision_concurrency:
            return self.celery.vision_concurrency
        from models.vision import resolve_device  # torch: only the parts that ask import it

        return cpu_cores() if resolve_device(self.models.device) == "cpu" else 1

    @property
    def vision_threads(self) -> int:
        """Torch threads of each vision worker process: `models.vision_threads`, else the
        cores shared among the processes."""
        return self.models.vision_threads or max(1, cpu_cores() // self.vision_processes)

    @property
    def vision_batches_in_flight(self) -> int:
        """Camera batches sent and not yet analysed: `camera.max_batches_in_flight`, else
        one per vision worker process, so each has one to work on."""
        return self.camera.max_batches_in_flight or self.vision_processes


def cpu_cores() -> int:
    """The cores this process may run on (its affinity, as a container limits it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _env_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def _field_info(loc: tuple[Any, ...]) -> FieldInfo | None:
    model: type[BaseModel] = Settings
    info: FieldInfo | None = None
    for part in loc:
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return info


def _bounds(info: FieldInfo) -> str:
    words = []
    for rule in info.metadata:
        for name, text in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(rule, name, None)
            if value is not None:
                words.append(f"{text} {value}")
    return ", ".join(words)


def _explain(error: dict[str, Any]) -> str:
    loc = tuple(part for part in error["loc"] if not isinstance(part, int))
    dotted = ".".join(str(part) for part in loc) or "(settings)"
    if error["type"] == "extra_forbidden" and dotted in MOVED:
        return _moved(dotted)
    if error["type"] == "extra_forbidden":
        known = _known_names(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"- {dotted}: is not a Cradle setting.{hint} Remove it."
    info = _field_info(loc) if loc else None
    line = f"- {dotted} ({_env_name(loc)}): {error['msg']}" if loc else f"- {error['msg']}"
    if info is not None:
        bounds = _bounds(info)
        fix = f"set {_env_name(loc)} (or '{dotted}' in the config file)"
        fix += f" to a value {bounds}" if bounds else " to a valid value"
        if info.description:
            fix += f". It is: {info.description}"
        line += f"\n    fix: {fix}"
    return line


def _moved(dotted: str) -> str:
    new = MOVED[dotted]
    old_env, new_env = (_env_name(tuple(name.split("."))) for name in (dotted, new))
    return (f"- {dotted} ({old_env}): has moved to {new}. Set {new_env} (or '{new}' in the "
            f"config file) instead, and remove the old one.")


def _known_names(loc: tuple[Any, ...]) -> list[str]:
    if not loc:
        return list(Settings.model_fields)
    info = _field_info(loc)
    annotation = info.annotation if info else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unknown_environment() -> list[str]:
    """CRADLE_* variables that name no setting: usually a single `_` where `__` was meant.
    A moved setting is left to the validation error, which says where it went."""
    problems = []
    for name in sorted(os.environ):
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if ".".join(parts) in MOVED:
            continue
        if _field_info(tuple(parts)) is None:
            candidates = [_env_name((f,)) for f in Settings.model_fields] + [
                _env_name((section, f))
                for section in Settings.model_fields
                for f in _known_names((section,))
            ]
            close = difflib.get_close_matches(name, candidates, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            problems.append(f"- {name}: is not a Cradle setting.{hint}")
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Read and validate all settings, or raise `SettingsError` saying what to fix."""
    problems = _unknown_environment()
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += [_explain(error) for error in exc.errors()]  # type: ignore[arg-type]
        settings = None
    if problems:
        count = len(problems)
        head = f"Cradle cannot start: {count} setting{'s' if count > 1 else ''} to fix."
        raise SettingsError("\n".join([head, *problems]))
    assert settings is not None
    return settings


def settings_files() -> dict[str, Path]:
    """Where settings are read from, whether or not the files exist: "env" (`.env` in the
    working folder) and, when CRADLE_CONFIG_FILE names one, "config" (that YAML file)."""
    named = {"env": Path(".env")}
    config_file = os.environ.get(CONFIG_FILE_VAR)
    if config_file:
        named["config"] = Path(config_file)
    return {what: path.resolve() for what, path in named.items()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, validated once on first use."""
    return load_settings()
