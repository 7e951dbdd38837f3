"""Scheduled backups: when one is due, and keeping the newest `backup.keep`.

The training worker's beat asks every `backup.check_every_s` (workers/maintenance.py).
With `backup.hour` set, a backup is due when none was made since that hour last struck
(local time, `family.timezone`), so a machine that was off at four catches up when it
starts; without one, when the newest is `backup.every_h` old. Any archive in the folder
counts, `cradle backup`'s too.
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from services.backup.archive import archives, create, prune
from services.settings import Settings

log = logging.getLogger(__name__)
LOCK = "cradle:backup:lock"  # held while a scheduled backup runs, so two never overlap
LOCK_TTL_S = 3600


def due(settings: Settings, newest: datetime | None, now: datetime) -> bool:
    """Whether a scheduled backup should run at `now`, the newest having been made at `newest`."""
    b = settings.backup
    if not b.enabled:
        return False
    if newest is None:
        return True
    if b.hour is None:
        return now - newest >= timedelta(hours=b.every_h)
    local = settings.family.local(now)
    struck = local.replace(hour=b.hour, minute=0, second=0, microsecond=0)
    if struck > local:
        struck -= timedelta(days=1)
    return newest < struck


def run_scheduled(settings: Settings, client: redis.Redis, now: datetime | None = None) -> Path | None:
    """Make a backup when one is due, then delete all but the newest `backup.keep`;
    returns the new archive, or None when none was due (or another one runs)."""
    folder = settings.backup.folder_in(settings.data_dir)
    listed = archives(folder, read=False)
    if not due(settings, listed[0].created_at if listed else None, now or datetime.now(UTC)):
        return None
    if not client.set(LOCK, socket.gethostname(), nx=True, ex=LOCK_TTL_S):
        return None
    try:
        path = create(settings, client, folder)
        gone = prune(folder, settings.backup.keep)
    finally:
        client.delete(LOCK)
    log.info("backed up into %s; %d older backup(s) deleted", path, len(gone))
    return path
