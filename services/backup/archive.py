"""What a backup holds, the archive file with its manifest, checking one, and the list.

    cradle-backup-20261202-040000.tar.gz        (UTC time of the backup)
      manifest.json            first: version, time, counts, each file's size and SHA-256
      redis/dump.rdb           the Redis snapshot: users (hashed tokens), the children
                               (family store), alerts, timeline, games, label records,
                               push subscriptions, the event stream
      labels/frames/...        the labelled frames' copies (data_dir/labels)
      registry/<family>/...    the family's model versions and `current` (models dir)
      keys/vapid-*.pem|.txt    the Web Push keys (`cradle push keys`)
      caddy/...                the https front door's local authority (root and intermediate
                               certificates and keys), so the phones' installed root still holds
      settings/env|config      .env and the CRADLE_CONFIG_FILE YAML, when there are ones

Left out: the camera's frames (a rolling window, pruned anyway; the labelled ones are in
labels/), logs, voice uploads and spoken replies (caches), the offline weights (`cradle
assets fetch` brings them back, checked by SHA-256) and the demo models (set-up trains
them again).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import re
import shutil
import socket
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import redis
from rich.progress import Progress

from models.registry import FAMILIES, Registry
from services.backup import BackupError
from services.backup.snapshot import server_name, take
from services.settings import Settings, settings_files

FORMAT = 1
MANIFEST = "manifest.json"
RDB = "redis/dump.rdb"
NAME = re.compile(r"^cradle-backup-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
LEFT_OUT = [
    "camera frames (a rolling window; labelled frames are under labels/)",
    "logs, voice uploads and spoken replies (caches)",
    "offline model weights (cradle assets fetch brings them back)",
    "demo models (set-up trains them again)",
]
_CHUNK = 1 << 20


def places(settings: Settings) -> dict[str, Path]:
    """Where each part of a backup lives on this machine, by its name in the archive:
    where a backup takes it from and where a restore puts it."""
    private, public = settings.delivery.key_files(settings.data_dir)
    return {
        "labels": (settings.data_dir / "labels").resolve(),
        "registry": settings.models_dir / "registry",
        "keys/vapid-private.pem": private,
        "keys/vapid-public.txt": public,
        "caddy": settings.https.root_certificate(settings.data_dir).parent,
        **{f"settings/{what}": path for what, path in settings_files().items()},
    }


def _scratch(name: str) -> bool:
    """Half-written files (a label copy, a registry version being added) are not data."""
    return name.startswith(".") or name.endswith((".part", ".tmp"))


def _stage(settings: Settings, stage: Path) -> None:
    """Copy the files of a backup into `stage`, so the archive and its checksums describe
    one copy even while the stack writes on."""
    for name, place in places(settings).items():
        target = stage / name
        if place.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(place, target)
        elif place.is_dir():
            shutil.copytree(place, target, ignore=lambda _d, names: [n for n in names if _scratch(n)])


def _files(stage: Path) -> list[Path]:
    return sorted(p for p in stage.rglob("*") if p.is_file())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cradle_version() -> str:
    try:
        return importlib.metadata.version("cradle")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _models(stage: Path) -> dict[str, Any]:
    found = {}
    for family in FAMILIES:
        registry = Registry(stage, family)
        current = registry.current()
        found[family] = {"versions": len(registry.versions()), "current": current.name if current else None}
    return found


def archive_name(folder: Path, at: datetime) -> Path:
    stem = f"cradle-backup-{at.astimezone(UTC):%Y%m%d-%H%M%S}"
    path, n = folder / f"{stem}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.tar.gz"
    return path


def create(settings: Settings, client: redis.Redis, folder: Path, *, progress: Progress | None = None,
           over_the_wire: bool = False) -> Path:
    """Back up the family's data into a new archive in `folder`; returns its path. The
    archive appears whole (it is written aside and renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".cradle-backup-") as scratch:
        stage = Path(scratch) / "stage"
        (stage / "redis").mkdir(parents=True)
        step = progress.add_task("Redis snapshot", total=None) if progress else None
        snapshot = take(client, stage / RDB, settings.bus.stream, over_the_wire=over_the_wire)
        if progress and step is not None:
            progress.update(step, total=1, completed=1)
        _stage(settings, stage)
        files = _files(stage)
        models = _models(stage)
        manifest = {
            "format": FORMAT, "cradle_version": cradle_version(), "created_at": created.isoformat(),
            "host": socket.gethostname(),
            "redis": {"method": snapshot.method, "version": snapshot.redis_version, "db": snapshot.db,
                      "server": server_name(client)},
            "counts": {**snapshot.counts, "model_versions": sum(m["versions"] for m in models.values())},
            "models": models,
            "left_out": LEFT_OUT,
            "files": {p.relative_to(stage).as_posix(): {"size": p.stat().st_size, "sha256": sha256(p)}
                      for p in files},
        }
        target = archive_name(folder, created)
        part = Path(scratch) / target.name
        total = sum(p.stat().st_size for p in files)
        step = progress.add_task("Archive", total=total) if progress else None
        with tarfile.open(part, "w:gz", compresslevel=1) as tar:  # JPEGs and weights hardly shrink
            body = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(created.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
            for path in files:
                member = tar.gettarinfo(str(path), path.relative_to(stage).as_posix())
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                with path.open("rb") as stream:
                    tar.addfile(member, stream)
                if progress and step is not None:
                    progress.advance(step, member.size)
        part.chmod(0o600)  # it holds the family's data and the push keys
        part.replace(target)
    return target


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest at the head of an archive (nothing else is read)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(f"{archive} is not a Cradle backup: it does not start with {MANIFEST}")
            stream = tar.extractfile(first)
            assert stream is not None
            manifest: dict[str, Any] = json.loads(stream.read(first.size))
    except FileNotFoundError as exc:
        raise BackupError(f"no backup at {archive}: check the path (cradle backup list shows them)") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
        raise BackupError(f"{archive} cannot be read ({exc}): it is truncated, damaged or not a Cradle "
                          "backup") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("files"), dict):
        raise BackupError(f"{archive}'s manifest is not one this Cradle reads (format {FORMAT})")
    return manifest


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or not path.parts
            or (path.parts[0] not in ("redis", "labels", "registry", "keys", "caddy", "settings"))
            or (path.parts[0] == "redis" and name != RDB)):
        raise BackupError(f"the archive names a file {name!r} that a Cradle backup never holds")
    return path


def unpack(archive: Path, into: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Check every file of `archive` against its manifest while copying it under `into`;
    returns the manifest. Raises BackupError saying what is wrong (damaged, truncated,
    changed, files missing or extra); `into` then holds nothing of it."""
    manifest = read_manifest(archive)
    expected: dict[str, Any] = manifest["files"]
    for name in expected:
        _safe_name(name)
    if RDB not in expected:
        raise BackupError(f"{archive} holds no Redis snapshot ({RDB})")
    total = sum(int(f["size"]) for f in expected.values())
    step = progress.add_task("Checking", total=total) if progress else None
    seen: set[str] = set()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.next()  # the manifest, read above
            for member in _members(tar):
                name = member.name
                if name in seen or name not in expected:
                    raise BackupError(f"{archive} holds {name}, which its manifest does not list "
                                      "(the archive was changed)")
                if not member.isfile():
                    raise BackupError(f"{archive}: {name} is not a plain file")
                target = into / _safe_name(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                stream = tar.extractfile(member)
                assert stream is not None
                size, digest = _copy(stream, target)
                want = expected[name]
                if size != int(want["size"]) or digest != want["sha256"]:
                    raise BackupError(f"{archive}: {name} does not match its checksum in the manifest "
                                      "(the archive was changed or damaged); nothing was restored")
                target.chmod(member.mode & 0o777 or 0o600)
                seen.add(name)
                if progress and step is not None:
                    progress.advance(step, size)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{archive} cannot be read to the end ({exc}): it is truncated or damaged; "
                          "nothing was restored") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        named = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise BackupError(f"{archive} lacks {len(missing)} file(s) its manifest lists ({named}): it is "
                          "truncated; nothing was restored")
    return manifest


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := tar.next()) is not None:
        yield member


def _copy(stream: IO[bytes], target: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as sink:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
            sink.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@dataclass(frozen=True)
class Archive:
    """One archive in a backups folder, as `cradle backup list` shows it."""

    path: Path
    created_at: datetime
    size: int
    manifest: dict[str, Any] | None
    problem: str | None  # why its manifest cannot be read


def archives(folder: Path, read: bool = True) -> list[Archive]:
    """The backups in `folder`, newest first (by the time in their names); with `read`,
    each with its manifest."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else []:
        match = NAME.match(path.name)
        if not match or not path.is_file():
            continue
        created = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
        manifest, problem = None, None
        if read:
            try:
                manifest = read_manifest(path)
            except BackupError as exc:
                problem = str(exc)
        found.append(Archive(path, created, path.stat().st_size, manifest, problem))
    return sorted(found, key=lambda a: (a.created_at, _nth(a.path)), reverse=True)


def _nth(path: Path) -> int:
    """The second archive of one second is named ...-2.tar.gz."""
    match = NAME.match(path.name)
    return int(match.group(2) or 1) if match else 0


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; returns what was deleted.
    Only files named like Cradle's archives are touched."""
    gone = [a.path for a in archives(folder, read=False)[keep:]]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
