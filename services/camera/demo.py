"""The demo camera: a clip of the synthetic nursery, played in a loop as a video file.

With no camera configured, `cradle up` runs it so a newcomer sees moods, captions and an
alert flow within a minute. It is framed as the demo models were taught (models/scenes.py):
a room camera over a cot, at night. The story (STORY): asleep, wakes up content, gets
upset, is fed, plays on the floor, crawls to the stairs, is picked up, and sleeps again.
Each picture is held a few seconds, as a real cot camera would see a baby mostly still,
so the motion gate lets through the changes. The clip is drawn once and kept in
data_dir/camera/.

`SCRIPTED_ALERTS` is what one pass of the story must raise under the default alert rules,
and nothing else: the stairs. The mood alerts need longer than the clip (crying for
minutes, a sleep of ten), and the story holds no empty cot, whose alert depends on the
hour.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from models.scenes import make_room, render_scene
from services.settings.sections import CameraSource

VERSION = 2  # change when the story changes: the clip is drawn again
SIZE = 224
FPS = 2
HOLD_S = 3  # seconds each picture stays on screen
CAMERA_NAME, CHILD, ROOM = "demo", "Baby", "nursery"
# The room and baby drawn for the story. Synthetic night frames through a video codec are
# not all alike to the demo models; this one reads, picture by picture, as its script
# says (tests/services/camera/test_demo.py checks it with the served models).
STORY_SEED = 8


@dataclass(frozen=True)
class Shot:
    scene: str  # one of models.scenes.SCENES
    mood: str  # one of models.scenes.MOODS_IN[scene]
    pictures: int  # pictures drawn, each held HOLD_S seconds
    alert: tuple[str, str, str] | None = None  # (kind, severity, words in its reason) it must raise


STORY = (
    Shot("sleeping", "sleep", 5),
    Shot("awake", "happy", 3),
    Shot("awake", "upset", 4),
    Shot("held", "feed", 4),
    Shot("sitting", "happy", 3),
    Shot("crawling", "happy", 3, alert=("hazard", "urgent", "near stairs")),
    Shot("held", "happy", 2),
    Shot("sleeping", "sleep", 4),
)
SCRIPTED_ALERTS = [shot.alert for shot in STORY if shot.alert]
LOOP_S = sum(shot.pictures for shot in STORY) * HOLD_S  # one pass of the story


def story_pictures(seed: int = STORY_SEED) -> list[tuple[Shot, Image.Image]]:
    """Every picture of the story, in order, with the shot it belongs to."""
    rng = random.Random(seed)
    room = make_room("demo", datetime(2026, 1, 5, 21), rng)
    return [(shot, render_scene(shot.scene, SIZE, room, rng, night=True, mood=shot.mood))
            for shot in STORY for _ in range(shot.pictures)]


def write_clip(path: Path, pictures: list[Image.Image], *, fps: int = FPS, hold_s: float = HOLD_S) -> Path:
    """An H.264 (or MPEG-4 where x264 is missing) file showing each picture for `hold_s`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f"{path.stem}.{os.getpid()}.part{path.suffix}")  # racers each write their own
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(scratch), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = pictures[0].size
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "18"}  # dark night frames keep their faces' details
        for picture in pictures:
            rgb = np.asarray(picture.convert("RGB"))
            for _ in range(max(1, round(hold_s * fps))):
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    scratch.replace(path)
    return path


def demo_clip(folder: Path) -> Path:
    """The demo clip under `folder`, drawn on first use."""
    path = folder / f"demo-v{VERSION}.mp4"
    if not path.is_file():
        write_clip(path, [picture for _shot, picture in story_pictures()])
    return path


def demo_camera(data_dir: Path) -> CameraSource:
    return CameraSource(name=CAMERA_NAME, child=CHILD, room=ROOM,
                        source=str(demo_clip(data_dir.resolve() / "camera")), loop=True)
