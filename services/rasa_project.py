"""The Rasa project on disk (chatbot/), and how Cradle trains and runs it.

Rasa 3.6 needs Python 3.10, so it lives in its own virtual environment (`rasa.venv`) and
runs as its own process; nothing here imports Rasa. A trained model is named after a
fingerprint of what it was trained from (config, domain, NLU data, rules, stories), so
`cradle up` trains only when that changed, and a cache folder can hold models across
clones (CI, fresh checkouts).

The Rasa server reads `endpoints.yml`, which takes the Redis and action-server addresses
from `RASA_*` environment variables (`rasa_env`): conversations live in Redis (tracker
store, bounded by chatbot/addons/tracker_store.py) and are locked there (lock store), so
they survive restarts and several Rasa replicas can share them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent / "chatbot"
CONFIG = PROJECT_DIR / "config.yml"
DOMAIN = PROJECT_DIR / "domain.yml"
DATA = PROJECT_DIR / "data"
ENDPOINTS = PROJECT_DIR / "endpoints.yml"
TEST_STORIES = PROJECT_DIR / "tests"
MODEL_PREFIX = "cradle-"


class ChatbotError(RuntimeError):
    """The chatbot cannot be trained or started; the message says what to do."""


def sources(project: Path = PROJECT_DIR) -> list[Path]:
    """Every file a trained model depends on, in a stable order."""
    data = sorted(p for p in (project / "data").rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
    return [project / "config.yml", project / "domain.yml", *data]


def fingerprint(files: Iterable[Path] | None = None, project: Path = PROJECT_DIR) -> str:
    """A short hash of the training inputs (names and contents)."""
    digest = hashlib.sha256()
    for path in files if files is not None else sources(project):
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def models_folder(settings: Settings) -> Path:
    return settings.models_dir / "rasa"


def model_path(settings: Settings, key: str | None = None) -> Path:
    """Where the model trained from the current data lives (it may not exist yet)."""
    return models_folder(settings) / f"{MODEL_PREFIX}{key or fingerprint()}.tar.gz"


def venv(settings: Settings) -> Path:
    return settings.rasa.venv if settings.rasa.venv.is_absolute() else Path.cwd() / settings.rasa.venv


def rasa_command(settings: Settings) -> Path:
    """The `rasa` executable of the chatbot's Python 3.10 environment."""
    command = venv(settings) / "bin" / "rasa"
    if not command.exists():
        raise ChatbotError(
            f"Rasa is not installed at {command}: run scripts/setup.sh (it builds the Python 3.10 "
            "environment from chatbot/requirements-rasa.lock), or set CRADLE_RASA__VENV"
        )
    return command


def quiet_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Rasa runs in: no telemetry, no TensorFlow chatter, CPU threads bounded."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONHOME", None)
    env.update(extra or {})
    # Rasa's own Python sees the project folder (its addons: endpoints.yml names the tracker
    # store there), never the main environment's packages, whatever `extra` carried.
    env["PYTHONPATH"] = str(PROJECT_DIR)
    return env


def train(settings: Settings, cache: Path | None = None, force: bool = False,
          rasa_cache: Path | None = None) -> tuple[Path, bool]:
    """The model for the current data: already there, copied from `cache`, or trained now.
    Returns its path and whether it was trained by this call. Rasa keeps trained parts in
    chatbot/.rasa (or `rasa_cache`), so a change to the stories does not retrain the NLU."""
    key = fingerprint()
    target = model_path(settings, key)
    cached = cache / target.name if cache else None
    if target.exists() and not force:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    if cached and cached.exists() and not force:
        shutil.copyfile(cached, target)
        return target, False
    scratch = target.parent / f".training-{key}"
    shutil.rmtree(scratch, ignore_errors=True)
    _run_rasa(settings, ["train", "--config", str(CONFIG), "--domain", str(DOMAIN), "--data", str(DATA),
                         "--out", str(scratch), "--fixed-model-name", target.name.removesuffix(".tar.gz")],
              "rasa train", {"RASA_CACHE_DIRECTORY": str(rasa_cache)} if rasa_cache else None)
    produced = scratch / target.name
    if not produced.exists():
        raise ChatbotError(f"rasa train finished but wrote no {produced.name} in {scratch}")
    produced.replace(target)
    shutil.rmtree(scratch, ignore_errors=True)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, cached)
    prune(settings, keep=target)
    return target, True


def prune(settings: Settings, keep: Path, keep_count: int = 3) -> None:
    """Remove older trained models, keeping the newest few (a rollback is a file away)."""
    models = sorted(models_folder(settings).glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in [m for m in models if m != keep][:-keep_count or None]:
        old.unlink(missing_ok=True)


def rasa_env(settings: Settings, redis_url: str) -> dict[str, str]:
    """The variables endpoints.yml reads: Redis for trackers and locks, the action server."""
    parts = urlsplit(redis_url)
    db = (parts.path or "/0").lstrip("/") or "0"
    return {
        "RASA_REDIS_HOST": parts.hostname or "127.0.0.1",
        "RASA_REDIS_PORT": str(parts.port or 6379),
        "RASA_REDIS_DB": db,
        "RASA_REDIS_PASSWORD": parts.password or "",
        "RASA_ACTIONS_URL": settings.rasa.actions_url,
        "RASA_TRACKER_TTL_S": str(int(settings.rasa.conversation_days * 86400)),
    }


def server_argv(settings: Settings, model: Path) -> list[str]:
    """`rasa run` with the REST channel and HTTP API, on the configured address."""
    url = urlsplit(settings.rasa.url)
    argv = [
        str(rasa_command(settings)), "run", "--enable-api",
        "--model", str(model), "--endpoints", str(ENDPOINTS),
        "--interface", url.hostname or "127.0.0.1", "--port", str(url.port or 5005),
    ]
    if settings.rasa.api_token is not None:  # the HTTP API (models, trackers) wants it; chat does not
        argv += ["--auth-token", settings.rasa.api_token.get_secret_value()]
    return argv


def actions_argv(settings: Settings, python: str) -> list[str]:
    """The action server (rasa-sdk, in Cradle's main environment)."""
    port = urlsplit(settings.rasa.actions_url).port or 5055
    return [python, "-m", "chatbot.actions", "--port", str(port)]


def wait_for(url: str, timeout_s: float, alive: Callable[[], bool] | None = None) -> bool:
    """Poll `url` until it answers 200 (Rasa takes 10-30 s to load its model); False when
    the time runs out or `alive` says the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if alive is not None and not alive():
            return False
        time.sleep(0.5)
    return False


def _run_rasa(settings: Settings, args: list[str], what: str, env: dict[str, str] | None = None) -> None:
    """Run one `rasa` command in the project folder; its output's tail in the error."""
    done = subprocess.run([str(rasa_command(settings)), *args], cwd=PROJECT_DIR, env=quiet_env(env),
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ChatbotError(f"{what} failed (exit {done.returncode}):\n{tail}")


def test_stories(settings: Settings, model: Path, out: Path, stories: Path = TEST_STORIES,
                 e2e: bool = False) -> dict[str, Any]:
    """`rasa test core` over test stories, those of chatbot/tests unless told: given each
    turn's intent, the predicted actions must match; with `e2e`, the intents and entities
    are predicted from the user's words too. Returns the story report with the names of
    failed stories under "failed"."""
    out.mkdir(parents=True, exist_ok=True)
    _run_rasa(settings, ["test", "core", *(["--e2e"] if e2e else []), "--stories", str(stories),
                         "--model", str(model), "--out", str(out), "--no-plot"], "rasa test core")
    report: dict[str, Any] = json.loads((out / "story_report.json").read_text())
    failed = out / "failed_test_stories.yml"
    text = failed.read_text() if failed.exists() else ""
    report["failed"] = re.findall(r"^- story: (.+?)(?: \(.*)?$", text, flags=re.MULTILINE)
    return report


def test_nlu(settings: Settings, model: Path, nlu: Path, out: Path) -> dict[str, Any]:
    """`rasa test nlu` of the trained model on the examples in `nlu`; returns the intent
    report (its "accuracy", and per intent precision, recall and f1-score)."""
    out.mkdir(parents=True, exist_ok=True)
    _run_rasa(settings, ["test", "nlu", "--nlu", str(nlu), "--model", str(model), "--out", str(out),
                         "--no-plot"], "rasa test nlu")
    report: dict[str, Any] = json.loads((out / "intent_report.json").read_text())
    return report


def cross_validate(settings: Settings, out: Path, folds: int = 5) -> dict[str, Any]:
    """NLU cross-validation (`rasa test nlu --cross-validation`); returns the intent
    report: per intent and "weighted avg" precision, recall and f1-score."""
    out.mkdir(parents=True, exist_ok=True)
    _run_rasa(settings, ["test", "nlu", "--nlu", str(DATA / "nlu"), "--config", str(CONFIG),
                         "--domain", str(DOMAIN), "--cross-validation", "--folds", str(folds),
                         "--out", str(out)], "rasa test nlu")
    report: dict[str, Any] = json.loads((out / "intent_report.json").read_text())
    return report
