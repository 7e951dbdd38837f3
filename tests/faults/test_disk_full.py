"""The frames folder fills up under a running camera: it keeps running, says so in its
status, drops the frames it cannot store (no half-written file, no event for a frame that
is not on disk), and stores frames again once there is room.

The small disk is a tmpfs mounted in a user namespace of the camera's own (`unshare -rm`),
so no privilege is needed; the test reaches into it through /proc/PID/root. Where user
namespaces are off, the test is skipped and says so.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from PIL import Image

from services.bus.events import FrameCaptured
from services.camera.status import CameraStatus
from services.redis_runtime import EmbeddedRedis
from services.settings import load_settings
from tests.conftest import ROOT, child_env, wait_for
from tests.services.camera.clips import bus_events, moving_clip

MOUNT = 'mount -t tmpfs -o size={size} tmpfs "$1"'


def small_disk_problem(tmp_path: Path) -> str | None:
    """Why a private tmpfs cannot be mounted here, or None when it can."""
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(["unshare", "-rm", "sh", "-c", MOUNT.format(size="64k"), "sh", str(probe)],
                              capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "unshare (util-linux) is not installed"
    if done.returncode != 0:
        return f"no user namespace with a tmpfs here (unshare -rm: {done.stderr.strip()[:200]})"
    return None


def test_a_full_frames_disk_drops_frames_cleanly_and_recovers(
    redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path
) -> None:
    if problem := small_disk_problem(tmp_path):
        pytest.skip(problem)
    data = tmp_path / "data"
    settings = load_settings(redis={"url": redis_server.url}, data_dir=data, environment="test")
    frames = settings.frames_dir
    frames.mkdir(parents=True)
    clip = moving_clip(tmp_path / "moving.mp4", seconds=2.0, fps=10)
    camera = {"name": "cot", "child": "Mia", "source": str(clip), "loop": True}
    env = child_env(redis_server.url, data, CRADLE_CAMERA__CAMERAS=json.dumps([camera]),
                    CRADLE_CAMERA__SAMPLE_HZ="10", CRADLE_CAMERA__MOTION_THRESHOLD="0",
                    CRADLE_CAMERA__DISK_BUDGET_MB="16")
    # A 256 KiB disk with 200 KB taken: room for a few dozen small frames.
    script = (MOUNT.format(size="256k") + ' && head -c 200000 /dev/zero > "$1/ballast"'
              ' && exec "$2" -m services.camera')
    log = (tmp_path / "camera.log").open("wb")
    process = subprocess.Popen(["unshare", "-rm", "sh", "-c", script, "sh", str(frames), sys.executable],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    inside = Path(f"/proc/{process.pid}/root") / frames.relative_to("/")
    status = CameraStatus(client)
    try:
        full = wait_for(lambda: int(status.read("cot").get("unsaved", 0)) >= 5 and status.read("cot"),
                        timeout=60, what="the camera to find its disk full")
        assert "No space left on device" in full["disk_error"]
        assert process.poll() is None, "the camera keeps running"
        stored = sorted(inside.rglob("*.jpg"))
        assert stored and not list(inside.rglob("*.part")), "no half-written frame"
        for path in stored:
            with Image.open(path) as image:
                image.verify()
        captured = bus_events(client, settings, FrameCaptured)
        assert sorted(e.path for _at, e in captured) == sorted(str(p.relative_to(inside)) for p in stored)
        assert int(full["captured"]) == len(captured), "an event for each stored frame, none for the rest"

        (inside / "ballast").unlink()  # room again
        wait_for(lambda: status.read("cot")["disk_error"] == "" and
                 int(status.read("cot")["captured"]) >= len(captured) + 5,
                 timeout=30, what="the camera to store frames again")
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        log.close()
    assert code == 0, (tmp_path / "camera.log").read_text()[-3000:]
