"""Stored frames: found by their reference or their file naming, never outside the frames
folder; removed by age, then oldest first down to the disk budget."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

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


def jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (200, 120, 80)).save(path, format="JPEG")
    return path


def test_find_frame_by_event_path_or_by_camera_naming(tmp_path: Path) -> None:
    root = tmp_path / "frames"
    frame = jpeg(root / "cot/2026-11-20/140000.000-f7.jpg")
    store = FrameStore(root)
    assert store.find("f7", "cot/2026-11-20/140000.000-f7.jpg") == frame
    assert store.find("f7", None, "cot") == frame
    assert store.find("f7", "missing.jpg", "cot") == frame  # the event's path is gone: naming
    assert store.find("f7", None, "hall") is None
    assert store.find("f8") is None
    jpeg(tmp_path / "outside-f9.jpg")
    assert store.find("f9", "../outside-f9.jpg") is None
    assert store.find("*", None) is None


def test_a_saved_frame_is_found_by_the_reference_save_returns(tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "frames")
    now = time.time()
    path = _frame(store, "cot", 1, age_s=0, now=now)
    reference = path.relative_to(store.root).as_posix()
    taken = datetime.fromtimestamp(now, UTC)
    assert reference == FrameStore.reference("cot", "f001", taken)
    assert store.find("f001", reference) == path == store.find("f001", camera="cot")
    assert store.file(reference) == path and store.file("../elsewhere.jpg") is None
    other = _frame(store, "play", 2, age_s=0, now=now)
    assert store.frames("cot") == [path] and store.frames() == [path, other]
    assert store.frames(frame_id="f002") == [other] and store.frames("c*") == []
