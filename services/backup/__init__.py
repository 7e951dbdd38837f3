"""Backups of the family's data, and restoring one.

    snapshot.py   a consistent Redis snapshot, and one loaded back into a server
    archive.py    what a backup holds, the archive and its manifest, checking one, the list
    restore.py    putting a checked archive in place on a stopped stack, keeping an undo
    schedule.py   when a scheduled backup is due, and keeping the newest N
"""

from __future__ import annotations


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says what was wrong and what to do."""
