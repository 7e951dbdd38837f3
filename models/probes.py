"""Real pictures that are not a nursery, to prove the models know what they do not know.

Debian's `opencv-doc` package (installed by scripts/setup.sh) ships photographs of
people, rooms, animals, a street, a desk, toys on a blanket, a painting and two logos,
and `vtest.avi`, a real video of people walking in a hall. None shows a nursery or a
baby, so no served model may find one familiar or raise a hazard from it. The tests
and `python -m bench familiarity` both use this set; thresholds are never tuned on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
from PIL import Image

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# The photographs (and the drawings a camera might still see: logos, a painting); the
# package's synthetic test patterns (chessboards, blobs, gradients, text) are left out.
PHOTOS = (
    "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png",
    "board.jpg", "box_in_scene.png", "building.jpg", "butterfly.jpg", "chicky_512.png",
    "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg", "left.jpg", "left01.jpg",
    "leuvenA.jpg", "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg", "right.jpg",
    "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg", "stuff.jpg", "sudoku.png",
    "starry_night.jpg", "LinuxLogo.jpg", "WindowsLogo.jpg", "HappyFish.jpg",
)
VIDEO = "vtest.avi"


class ProbesMissing(FileNotFoundError):
    """The probe pictures are not installed."""


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ProbesMissing(f"{path} is missing: install Debian's opencv-doc package "
                            "(scripts/setup.sh does)")
    return path


def real_photos(data: Path = OPENCV_DATA) -> list[Path]:
    """The photographs, as files."""
    return [_need(data / name) for name in PHOTOS]


def video_frames(out_dir: Path, every: int = 10, data: Path = OPENCV_DATA) -> list[Path]:
    """Every `every`-th frame of the real video, written as JPEGs into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for n, picture in enumerate(_decode(_need(data / VIDEO))):
        if n % every == 0:
            path = out_dir / f"vtest-{n:04d}.jpg"
            picture.save(path, quality=90)
            written.append(path)
    return written


def _decode(path: Path) -> Iterator[Image.Image]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_image()
