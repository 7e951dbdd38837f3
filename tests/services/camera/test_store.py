"""Stored frames: removed by age, then oldest first down to the disk budget."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from services.camera.store import FrameStore


def _frame(store: FrameStore, camera: str, n: int, age_s: float, now: float) -> Path:
    rgb = np.random.default_rng(n).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    taken = datetime.fromtimestamp(now - age_s, UTC)
    path = store.root / store.save(camera, f"f{n:03d}", rgb, taken)
    os.utime(path, (now - age_s, now - age_s))
    return path


def test_frames_older_than_the_retention_are_removed(tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "frames")
    now = time.time()
    old = [_frame(store, "cot", n, age_s=3 * 86400 + n, now=now) for n in range(3)]
    new = [_frame(store, "cot", 10 + n, age_s=60 * n, now=now) for n in range(3)]
    pruned = store.prune(now=now, retention_s=2 * 86400, budget_bytes=10**9)
    assert (pruned.by_age, pruned.by_budget, pruned.kept) == (3, 0, 3)
    assert not any(p.exists() for p in old) and all(p.exists() for p in new)
    assert not old[0].parent.exists()  # the emptied day folder goes too
    assert new[0].read_bytes()[:2] == b"\xff\xd8"


def test_the_oldest_frames_go_first_when_over_the_disk_budget(tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "frames")
    now = time.time()
    frames = [_frame(store, camera, n, age_s=100 - n, now=now)
              for n, camera in enumerate(["cot", "play"] * 5)]  # oldest first, two cameras
    size = frames[0].stat().st_size
    budget = sum(p.stat().st_size for p in frames[-4:])
    pruned = store.prune(now=now, retention_s=86400, budget_bytes=budget)
    assert pruned.by_budget == 6 and pruned.kept == 4 and pruned.kept_bytes <= budget
    assert [p.exists() for p in frames] == [False] * 6 + [True] * 4
    assert size > 1000  # real JPEGs, so the budget means something
