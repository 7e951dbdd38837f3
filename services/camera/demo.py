"""The demo camera: a clip of the synthetic nursery, played in a loop as a video file.

With no camera configured, `cradle up` runs it so a newcomer sees moods flow within a
minute. The story, one baby in one room at night: asleep, waking up content, getting
upset, fed, then (when the captioner's scene generator is there) crawling to the stairs,
and asleep again. Each picture is held a few seconds, as a real cot camera would see a
baby mostly still, so the motion gate lets through the changes. The clip is drawn once
from Cradle's own generators (models/mood/synth.py, models/caption/synth.py) and kept
in data_dir/camera/.
"""

from __future__ import annotations

import os
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from models.mood.synth import draw_face, make_session
from services.settings.sections import CameraSource

VERSION = 1  # change when the story changes: the clip is drawn again
SIZE = 224
FPS = 2
HOLD_S = 3  # seconds each picture stays on screen
STORY = [("sleep", 4), ("happy", 3), ("upset", 4), ("feed", 3), ("crawling", 3), ("sleep", 2)]
CAMERA_NAME, CHILD = "demo", "Baby"


def scene_pictures(scene: str, count: int, rng: random.Random) -> list[Image.Image]:
    """`count` pictures of a caption scene, or none when the scene generator is missing."""
    try:
        from models.caption.synth import make_room, render_scene
    except ImportError:
        return []
    room = make_room("demo", datetime(2026, 1, 5, 21), rng)
    return [render_scene(scene, SIZE, room, rng, night=True) for _ in range(count)]


def story_pictures(seed: int = 0) -> list[tuple[str, Image.Image]]:
    rng = random.Random(seed)
    session = make_session("demo", datetime(2026, 1, 5, 21), rng)
    pictures = []
    for scene, count in STORY:
        if scene in ("feed", "happy", "upset", "sleep"):
            drawn = [draw_face(scene, SIZE, session, rng) for _ in range(count)]
        else:
            drawn = scene_pictures(scene, count, rng)
        pictures += [(scene, picture) for picture in drawn]
    return pictures


def write_clip(path: Path, pictures: list[Image.Image], *, fps: int = FPS, hold_s: float = HOLD_S) -> Path:
    """An H.264 (or MPEG-4 where x264 is missing) file showing each picture for `hold_s`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f"{path.stem}.{os.getpid()}.part{path.suffix}")  # racers each write their own
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(scratch), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = pictures[0].size
        stream.pix_fmt = "yuv420p"
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
        write_clip(path, [picture for _scene, picture in story_pictures()])
    return path


def demo_camera(data_dir: Path) -> CameraSource:
    return CameraSource(name=CAMERA_NAME, child=CHILD, room="nursery",
                        source=str(demo_clip(data_dir.resolve() / "camera")), loop=True)
