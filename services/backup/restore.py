"""Putting a backup back, onto a stopped stack.

1. Refuse while `cradle up` runs (its state file names a live supervisor).
2. Check every file of the archive against its manifest while copying it into a staging
   folder under data_dir: a damaged, truncated or changed archive stops here, and
   nothing of the family's has been touched.
3. The embedded Redis: load the snapshot in a private redis-server and have it write
   the append-only file the embedded server starts from (it ignores an RDB file).
4. Back up what is there now, as an ordinary archive, into data_dir/restore-undo-<time>/:
   `cradle restore` on that archive undoes the restore.
5. Swap each part: the one in place moved aside, the restored one moved in. A configured
   Redis that answers (not the embedded one) gets its database emptied and every key of
   the snapshot written over the wire with RESTORE ... REPLACE, with its time to live.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from rich.progress import Progress

from services.backup import BackupError
from services.backup.archive import RDB, create, places, unpack
from services.backup.snapshot import copy_keys, count, loaded, to_append_only
from services.redis_runtime import EmbeddedRedis, reachable
from services.settings import Settings
from services.stack import read_state


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    redis: str  # where the data went: the embedded Redis's folder, or the server
    counts: dict[str, int]  # what the restored Redis holds
    parts: list[str]  # the other parts put back, by their names in the archive
    undo: Path | None  # the archive of what was there before (None: there was nothing)


def restore(settings: Settings, archive: Path, progress: Progress | None = None) -> Restored:
    """Put `archive` in place of the family's data; raises BackupError saying what is
    wrong (the stack runs, the archive is damaged, Redis does not answer)."""
    state = read_state(settings)
    if state:
        raise BackupError(f"Cradle is running (cradle up, pid {state['pid']}): stop it first (Ctrl-C in its "
                          "terminal), then restore")
    external = _configured_redis(settings)
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restore-"))
    swapping, undo = False, None
    try:
        manifest = unpack(archive, staging / "archive", progress)
        stream = settings.bus.stream
        with ExitStack() as stack:
            server = stack.enter_context(loaded(staging / "archive" / RDB, staging / "redis",
                                                db=int(manifest["redis"].get("db", 0))))
            if external is None:
                to_append_only(server)
                stack.close()  # the embedded server's files are written: stop the private one
            undo = _keep_current(settings, data_dir, external)
            swapping = True
            if external is not None:
                target = redis.Redis.from_url(external)
                copy_keys(server, target)
                counts = count(target, stream)
                target.close()
                where = external.rpartition("@")[2]
            else:
                (staging / "redis" / "dump.rdb").unlink(missing_ok=True)  # the AOF holds it all
                _swap(staging / "redis", data_dir / "redis", staging / "replaced" / "redis")
                with EmbeddedRedis(data_dir / "redis") as embedded:
                    check = redis.Redis.from_url(embedded.url)
                    counts = count(check, stream)
                    check.close()
                where = str(data_dir / "redis")
        parts = []
        for name, place in places(settings).items():
            staged = staging / "archive" / name
            if name.startswith("settings/") and not staged.exists():
                continue  # a backup without a .env leaves this machine's settings alone
            if staged.exists() or place.exists():
                parts.append(name)
            _swap(staged if staged.exists() else None, place, staging / "replaced" / name)
    except BackupError:
        if not swapping:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    except (OSError, redis.RedisError) as exc:
        if not swapping:
            shutil.rmtree(staging, ignore_errors=True)
            raise BackupError(f"restore stopped before changing anything: {exc}") from exc
        raise BackupError(f"restore stopped half way ({exc}); what it replaced is in {undo or 'nothing'} "
                          f"(restore that archive to undo) and {staging / 'replaced'}") from exc
    shutil.rmtree(staging, ignore_errors=True)
    return Restored(manifest, where, counts, parts, undo)


def _configured_redis(settings: Settings) -> str | None:
    """The configured Redis to restore into, or None for the embedded one."""
    url = settings.redis.url
    if not url:
        return None
    if not reachable(url):
        raise BackupError(f"the configured Redis ({url.rpartition('@')[2]}) does not answer: start it to "
                          "restore into it, or unset CRADLE_REDIS__URL to restore into the embedded Redis")
    return url


def _keep_current(settings: Settings, data_dir: Path, external: str | None) -> Path | None:
    """A backup of what is there now, in data_dir/restore-undo-<time>/; None when there
    is nothing (a fresh machine)."""
    embedded_dir = data_dir / "redis"
    if external:
        with redis.Redis.from_url(external) as probe:
            has_redis = int(probe.dbsize()) > 0
    else:
        has_redis = embedded_dir.is_dir() and any(embedded_dir.iterdir())
    if not has_redis and not any(place.exists() for place in places(settings).values()):
        return None
    folder = data_dir / f"restore-undo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    if external:
        client = redis.Redis.from_url(external, decode_responses=True)
        try:
            return create(settings, client, folder)
        finally:
            client.close()
    with EmbeddedRedis(embedded_dir) as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        try:
            return create(settings, client, folder)
        finally:
            client.close()


def _swap(new: Path | None, live: Path, aside: Path) -> None:
    """Move `live` to `aside` (when there is one) and `new` into its place."""
    if live.exists() or live.is_symlink():
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(live, aside)
    if new is not None:
        live.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(new, live)
