"""`cradle backup`, `cradle backup list` and `cradle restore`: the family's data, kept safe."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import redis
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from services.backup import BackupError
from services.backup.archive import archives, create, read_manifest
from services.backup.restore import restore as restore_archive
from services.cli.common import err, settings_or_exit
from services.stack import redis_for_cli

app = typer.Typer(help="Backups of the family's data; `cradle restore FILE` puts one back.")
console = Console()
COUNTED = ("users", "children", "alerts", "games", "labels", "model_versions")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=err, transient=True)


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _counts(manifest: dict[str, Any]) -> str:
    counts = manifest.get("counts", {})
    return ", ".join(f"{counts.get(name, '?')} {name.replace('_', ' ')}" for name in COUNTED)


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]{exc}[/]", highlight=False)
    return typer.Exit(1)


@app.callback(invoke_without_command=True)
def backup(
    ctx: typer.Context,
    to: Annotated[Path | None, typer.Option(
        "--to", help="Folder for the archive (default: the backup.folder setting, data_dir/backups).",
    )] = None,
) -> None:
    """Back up the family's data (Redis snapshot, labels, model registry, settings and
    push keys) into one archive with a manifest of checksums."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit()
    folder = to.expanduser().resolve() if to else settings.backup.folder_in(settings.data_dir)
    if folder.exists() and not folder.is_dir():
        raise _fail(BackupError(f"--to {folder} is a file, not a folder"))
    try:
        with redis_for_cli(settings) as client, _progress() as progress:
            path = create(settings, client, folder, progress=progress)
    except (BackupError, redis.RedisError, OSError) as exc:
        raise _fail(BackupError(f"no backup made: {exc}")) from exc
    manifest = read_manifest(path)
    console.print(f"Backed up into [bold]{path}[/] ({_size(path.stat().st_size)}): {_counts(manifest)}.",
                  highlight=False)
    console.print("[dim]Keep a copy off this machine; `cradle restore FILE` puts it back.[/]")


@app.command("list")
def list_archives(
    folder: Annotated[Path | None, typer.Option(
        "--in", help="Folder to list (default: the backup.folder setting).",
    )] = None,
) -> None:
    """The backups in the folder, newest first, with their time, size and counts."""
    settings = settings_or_exit()
    where = folder.expanduser().resolve() if folder else settings.backup.folder_in(settings.data_dir)
    found = archives(where)
    if not found:
        console.print(f"No backups in {where} yet: `cradle backup` makes one.")
        return
    # Two lines each, so it reads on a narrow terminal: the file to restore, then what it holds.
    console.print(f"Backups in {where}, newest first:", highlight=False)
    for archive in found:
        made = archive.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        console.print(f"[bold]{archive.path.name}[/]  {made}  {_size(archive.size)}", highlight=False)
        said = _counts(archive.manifest) if archive.manifest else f"[yellow]{archive.problem}[/]"
        console.print(f"    {said}", highlight=False)


def restore(
    archive: Annotated[Path, typer.Argument(help="The backup archive (cradle backup list shows them).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before replacing the data.")] = False,
) -> None:
    """Put a backup back onto a stopped stack, after checking every file against its
    manifest; what it replaces is kept as an archive in data_dir/restore-undo-<time>/."""
    settings = settings_or_exit()
    path = archive.expanduser().resolve()
    try:
        manifest = read_manifest(path)
    except BackupError as exc:
        raise _fail(exc) from exc
    made = datetime.fromisoformat(manifest["created_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    console.print(f"Backup of {made} from {manifest.get('host', '?')}: {_counts(manifest)}.", highlight=False)
    if not yes and not typer.confirm(f"Replace the family's data in {settings.data_dir.resolve()} with it?"):
        raise typer.Exit(1)
    try:
        with _progress() as progress:
            done = restore_archive(settings, path, progress)
    except BackupError as exc:
        raise _fail(exc) from exc
    counts = ", ".join(f"{n} {name}" for name, n in done.counts.items())
    console.print(f"Restored into {done.redis}: {counts}; and {', '.join(done.parts) or 'nothing else'}.",
                  highlight=False)
    if done.undo:
        console.print(f"What was there before is in [bold]{done.undo}[/]: `cradle restore {done.undo}` "
                      "undoes this restore.", highlight=False)
    if any(part.startswith("settings/") for part in done.parts):
        console.print("[yellow]The backup's settings (.env / config file) were restored too: check them "
                      "before `cradle up`.[/]")
    console.print("Start Cradle with `cradle up`.")
