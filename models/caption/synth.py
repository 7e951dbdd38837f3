"""Synthetic nursery scenes with reference captions, for tests and the demo. Not real data.

A cartoon room (wall, floor, and some of: cot, stairs, window, door, toys, a parent)
with a baby in one of SCENES, each with its cue: sleeping lies in the cot under a
blanket, sitting sits on the floor by toys, crawling is on all fours at the foot of the
stairs, standing reaches up under the window, climbing hangs over the cot rail, empty
shows a cot with nobody in it, held has the baby in a parent's arms. Colours, positions,
sizes, distractor furniture, day or night, light and noise vary. A session is one room
(its colours and the baby's clothes) like a family's camera session, so a split by
session keeps near-duplicates together. Each image gets 3-5 captions from templates
with synonyms.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
SCENES = ("sleeping", "sitting", "crawling", "standing", "climbing", "empty", "held")
SKIN = [(255, 224, 196), (241, 194, 157), (224, 172, 125), (198, 134, 92), (141, 90, 56)]
BABY, COT = ("the baby", "a baby", "the infant"), ("cot", "crib")
TEMPLATES: dict[str, tuple[str, ...]] = {
    "sleeping": ("{b} is sleeping in the {c}", "{b} is asleep in the {c}",
                 "{b} sleeps in the {c}", "{b} is lying asleep in the {c}"),
    "sitting": ("{b} is sitting on the floor", "{b} sits on the floor with toys",
                "{b} is playing on the floor", "{b} is sitting on the floor with toys"),
    "crawling": ("{b} is crawling near the stairs", "{b} crawls towards the stairs",
                 "{b} is crawling by the staircase", "{b} is crawling near the staircase"),
    "standing": ("{b} is standing at the window", "{b} stands by the window",
                 "{b} is standing near the window", "{b} is reaching up to the window"),
    "climbing": ("{b} is climbing out of the {c}", "{b} climbs over the side of the {c}",
                 "{b} is trying to climb out of the {c}", "{b} climbs out of the {c}"),
    "empty": ("the {c} is empty", "there is nobody in the {c}", "no one is in the {c}",
              "the {c} is empty and nobody is in it"),
    "held": ("a parent is holding {b}", "a parent holds {b}", "{b} is in a parent's arms",
             "an adult is holding {b}"),
}


@dataclass(frozen=True)
class Room:
    """One nursery and one baby: what stays fixed across a session."""

    name: str
    wall: RGB
    floor: RGB
    wood: RGB  # the cot, door and stairs
    skin: RGB
    clothes: RGB
    adult: RGB  # the parent's clothes
    start: datetime


@dataclass(frozen=True)
class SceneImage:
    image: str  # path relative to the captions CSV
    scene: str
    session: str
    captured_at: datetime
    captions: tuple[str, ...]


def _jitter(colour: Sequence[int], rng: random.Random, amount: int = 12) -> RGB:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def _colour(rng: random.Random, low: int = 60, high: int = 230) -> RGB:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def make_room(name: str, start: datetime, rng: random.Random) -> Room:
    return Room(name, _colour(rng, 150, 240), _colour(rng, 70, 190), _colour(rng, 90, 200),
                _jitter(rng.choice(SKIN), rng), _colour(rng, 40, 255), _colour(rng, 20, 160), start)


def captions_for(scene: str, rng: random.Random) -> tuple[str, ...]:
    """3-5 distinct captions for `scene`, synonyms drawn at random."""
    every = sorted({t.format(b=b, c=c) for t in TEMPLATES[scene] for b in BABY for c in COT})
    return tuple(sorted(rng.sample(every, rng.randint(3, 5))))


class _Canvas:
    """Drawing helpers in units of the canvas side, so scenes read in fractions."""

    def __init__(self, side: int, room: Room, rng: random.Random) -> None:
        self.side, self.room, self.rng = side, room, rng
        self.image = Image.new("RGB", (side, side), _jitter(room.wall, rng))
        self.draw = ImageDraw.Draw(self.image)
        self.horizon = rng.uniform(0.55, 0.65)

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: RGB, **kw: object) -> None:
        s = self.side
        self.draw.rectangle((x0 * s, y0 * s, x1 * s, y1 * s), fill=fill, **kw)  # type: ignore[arg-type]

    def oval(self, x: float, y: float, rx: float, ry: float, fill: RGB) -> None:
        s = self.side
        self.draw.ellipse(((x - rx) * s, (y - ry) * s, (x + rx) * s, (y + ry) * s), fill=fill)

    def line(self, points: list[tuple[float, float]], fill: RGB, width: float) -> None:
        s = self.side
        self.draw.line([(x * s, y * s) for x, y in points], fill=fill,
                       width=max(1, int(width * s)), joint="curve")


def _floor(c: _Canvas) -> None:
    c.box(0, c.horizon, 1, 1, _jitter(c.room.floor, c.rng))
    rug = _colour(c.rng)
    c.oval(c.rng.uniform(0.3, 0.7), c.horizon + 0.22, 0.25, 0.08, rug)


def _window(c: _Canvas, x: float, night: bool) -> None:
    y0, w, h = c.rng.uniform(0.1, 0.18), c.rng.uniform(0.2, 0.26), c.rng.uniform(0.26, 0.32)
    c.box(x - w / 2 - 0.015, y0 - 0.015, x + w / 2 + 0.015, y0 + h + 0.015, (245, 245, 245))
    c.box(x - w / 2, y0, x + w / 2, y0 + h, (25, 30, 70) if night else (140, 200, 245))
    if night:
        c.oval(x + w * 0.2, y0 + h * 0.25, 0.025, 0.025, (245, 240, 200))
    c.box(x - 0.008, y0, x + 0.008, y0 + h, (245, 245, 245))
    c.box(x - w / 2, y0 + h / 2 - 0.008, x + w / 2, y0 + h / 2 + 0.008, (245, 245, 245))
    c.box(x - w / 2 - 0.03, y0 + h + 0.015, x + w / 2 + 0.03, y0 + h + 0.035, (235, 235, 235))


def _door(c: _Canvas, x: float) -> None:
    top = c.rng.uniform(0.12, 0.2)
    c.box(x - 0.09, top, x + 0.09, c.horizon + 0.02, _jitter(c.room.wood, c.rng, 30))
    c.oval(x + 0.06, (top + c.horizon) / 2 + 0.03, 0.012, 0.012, (230, 200, 60))


def _stairs(c: _Canvas, left: bool) -> tuple[float, float]:
    """A staircase climbing up the wall; returns where its bottom step meets the floor."""
    steps, rise, run = c.rng.randint(5, 7), c.rng.uniform(0.06, 0.075), c.rng.uniform(0.05, 0.06)
    base_y = c.horizon + c.rng.uniform(0.12, 0.18)
    wood, tread = _jitter(c.room.wood, c.rng, 20), _jitter(c.room.wood, c.rng, 50)
    x_edge = 0.08 if left else 0.92
    for i in range(steps):
        y = base_y - (i + 1) * rise
        x_from = x_edge + (steps - i) * run * (1 if left else -1)
        x0, x1 = sorted((x_edge, x_from))
        c.box(x0, y, x1, y + rise, wood, outline=(60, 40, 30), width=2)
        c.box(x0, y, x1, y + rise * 0.25, tread)
    foot = x_edge + (steps + 0.5) * run * (1 if left else -1)
    top = (x_edge + run * (1 if left else -1), base_y - steps * rise - 0.08)
    c.line([(foot, base_y - rise - 0.08), top], (90, 60, 40), 0.012)  # banister
    return foot, base_y


def _cot(c: _Canvas, x: float, blanket: RGB) -> tuple[float, float, float]:
    """A cot on the floor; returns (left, right, top rail) of its frame."""
    w, h = c.rng.uniform(0.3, 0.36), c.rng.uniform(0.2, 0.24)
    bottom = c.horizon + c.rng.uniform(0.1, 0.14)
    top = bottom - h
    wood = _jitter(c.room.wood, c.rng, 20)
    c.box(x - w / 2, bottom - 0.07, x + w / 2, bottom - 0.03, blanket)  # mattress and blanket
    for i in range(9):
        bx = x - w / 2 + i * w / 8
        c.box(bx - 0.006, top, bx + 0.006, bottom, wood)
    c.box(x - w / 2 - 0.02, top - 0.02, x + w / 2 + 0.02, top + 0.005, wood)
    c.box(x - w / 2 - 0.02, bottom - 0.025, x + w / 2 + 0.02, bottom, wood)
    for sx in (-1, 1):
        c.box(x + sx * w / 2 - 0.018, top - 0.05, x + sx * w / 2 + 0.018, bottom + 0.05, wood)
    return x - w / 2, x + w / 2, top


def _toys(c: _Canvas, count: int) -> None:
    for _ in range(count):
        x, y, r = c.rng.uniform(0.15, 0.85), c.rng.uniform(c.horizon + 0.1, 0.88), c.rng.uniform(0.02, 0.04)
        if c.rng.random() < 0.5:
            c.oval(x, y, r, r, _colour(c.rng))
        else:
            c.box(x - r, y - r, x + r, y + r, _colour(c.rng), outline=(40, 40, 40))


def _head(c: _Canvas, x: float, y: float, r: float, asleep: bool = False) -> None:
    skin = c.room.skin
    c.oval(x, y, r, r, skin)
    dark = tuple(int(v * 0.4) for v in skin)
    for sx in (-1, 1):
        if asleep:
            c.line([(x + sx * 0.4 * r - 0.2 * r, y), (x + sx * 0.4 * r + 0.2 * r, y)], dark, r * 0.15)  # type: ignore[arg-type]
        else:
            c.oval(x + sx * 0.4 * r, y - 0.1 * r, 0.13 * r, 0.13 * r, dark)  # type: ignore[arg-type]


def _baby(c: _Canvas, pose: str, x: float, y: float, r: float) -> None:
    """The baby at (x, y) = where it touches the floor (or lies), head radius r."""
    cl, skin = c.room.clothes, c.room.skin
    if pose == "sitting":
        c.oval(x, y - 1.4 * r, 1.1 * r, 1.4 * r, cl)  # body
        c.line([(x - r, y - 0.2 * r), (x + 2.2 * r, y - 0.1 * r)], cl, 0.8 * r)  # legs forward
        c.line([(x - r, y - 1.8 * r), (x - 1.7 * r, y - 0.9 * r)], skin, 0.45 * r)  # arms
        c.line([(x + r, y - 1.8 * r), (x + 1.8 * r, y - 1.0 * r)], skin, 0.45 * r)
        _head(c, x, y - 3.5 * r, r)
    elif pose == "crawling":  # on all fours, facing the stairs
        d = 1 if c.rng.random() < 0.5 else -1
        c.oval(x, y - 1.6 * r, 1.9 * r, 0.8 * r, cl)  # horizontal body
        for leg in (-1.3, -0.9, 0.9, 1.3):
            c.line([(x + d * leg * r, y - 1.4 * r), (x + d * leg * r, y)], skin if abs(leg) < 1.1 else cl,
                   0.4 * r)
        _head(c, x + d * 2.4 * r, y - 2.0 * r, r)
    elif pose == "standing":  # upright, arms up to the sill
        c.line([(x - 0.4 * r, y), (x - 0.4 * r, y - 1.8 * r)], cl, 0.6 * r)
        c.line([(x + 0.4 * r, y), (x + 0.4 * r, y - 1.8 * r)], cl, 0.6 * r)
        c.oval(x, y - 2.8 * r, 1.0 * r, 1.4 * r, cl)
        c.line([(x - 0.8 * r, y - 3.6 * r), (x - 1.0 * r, y - 5.6 * r)], skin, 0.4 * r)
        c.line([(x + 0.8 * r, y - 3.6 * r), (x + 1.0 * r, y - 5.6 * r)], skin, 0.4 * r)
        _head(c, x, y - 4.9 * r, r)
    elif pose == "sleeping":  # lying down under a blanket
        c.oval(x, y, 2.2 * r, 0.7 * r, _jitter(cl, c.rng, 30))
        _head(c, x - 2.4 * r, y - 0.2 * r, 0.9 * r, asleep=True)
    elif pose == "climbing":  # body over the rail, one leg hooked over
        d = 1 if c.rng.random() < 0.5 else -1
        c.oval(x, y - 0.6 * r, 1.0 * r, 1.5 * r, cl)
        c.line([(x, y), (x + d * 2.0 * r, y + 1.2 * r)], cl, 0.6 * r)  # leg over the side
        c.line([(x, y), (x - d * 0.6 * r, y + 1.8 * r)], cl, 0.6 * r)  # leg still inside
        c.line([(x - r, y - 1.2 * r), (x - 1.4 * r, y + 0.3 * r)], skin, 0.4 * r)  # hands on rail
        c.line([(x + r, y - 1.2 * r), (x + 1.4 * r, y + 0.3 * r)], skin, 0.4 * r)
        _head(c, x + d * 0.3 * r, y - 2.6 * r, r)


def _parent(c: _Canvas, x: float, holding: bool) -> None:
    r = c.rng.uniform(0.045, 0.055)
    foot = c.horizon + c.rng.uniform(0.2, 0.3)
    adult = c.room.adult
    c.line([(x - 0.4 * r, foot), (x - 0.4 * r, foot - 4 * r)], (50, 50, 70), 0.8 * r)
    c.line([(x + 0.4 * r, foot), (x + 0.4 * r, foot - 4 * r)], (50, 50, 70), 0.8 * r)
    c.box(x - 1.2 * r, foot - 8.5 * r, x + 1.2 * r, foot - 3.8 * r, adult)
    head = _jitter(SKIN[c.rng.randrange(len(SKIN))], c.rng)
    c.oval(x, foot - 9.6 * r, 1.1 * r, 1.2 * r, head)
    if holding:  # a bundle in the arms: the baby's clothes and face
        c.oval(x + 0.4 * r, foot - 6.2 * r, 1.6 * r, 0.9 * r, c.room.clothes)
        _head(c, x + 1.8 * r, foot - 6.6 * r, 0.7 * r)
        c.line([(x - 1.1 * r, foot - 7.8 * r), (x + 1.2 * r, foot - 5.5 * r)], adult, 0.6 * r)
    else:
        c.line([(x - 1.2 * r, foot - 8 * r), (x - 1.5 * r, foot - 4.5 * r)], adult, 0.6 * r)
        c.line([(x + 1.2 * r, foot - 8 * r), (x + 1.5 * r, foot - 4.5 * r)], adult, 0.6 * r)


def render_scene(scene: str, size: int, room: Room, rng: random.Random, night: bool = False
                 ) -> Image.Image:
    """One RGB frame of `size` pixels showing `scene` in `room`."""
    if scene not in SCENES:
        raise ValueError(f"the generator draws {', '.join(SCENES)}, not {scene!r}")
    c = _Canvas(size * 2, room, rng)  # drawn at twice the size, then downsampled
    _floor(c)
    side = rng.random() < 0.5  # True: the scene's main furniture on the left
    main_x = rng.uniform(0.3, 0.4) if side else rng.uniform(0.6, 0.7)
    other_x = 1 - main_x + rng.uniform(-0.05, 0.05)
    if scene == "standing" or rng.random() < 0.3:
        _window(c, main_x if scene == "standing" else other_x, night)
    elif rng.random() < 0.4:
        _door(c, other_x)
    r = rng.uniform(0.036, 0.046)  # the baby's head radius
    blanket = _colour(rng)
    if scene == "crawling":
        foot, base = _stairs(c, left=side)
        _baby(c, "crawling", foot + (1 if side else -1) * rng.uniform(0.08, 0.12), base + 0.03, r)
    elif scene in ("sleeping", "climbing", "empty"):
        left, right, top = _cot(c, main_x, blanket)
        if scene == "sleeping":
            _baby(c, "sleeping", (left + right) / 2 + 0.04, top + 0.11, r)
        elif scene == "climbing":
            _baby(c, "climbing", rng.uniform(left + 0.08, right - 0.08), top, r)
    elif scene == "standing":
        _baby(c, "standing", main_x + rng.uniform(-0.04, 0.04), c.horizon + rng.uniform(0.05, 0.1), r)
    elif scene == "sitting":
        _toys(c, rng.randint(2, 4))
        _baby(c, "sitting", main_x, c.horizon + rng.uniform(0.15, 0.25), r)
    if scene == "held" or rng.random() < 0.15:
        _parent(c, main_x if scene == "held" else other_x, holding=scene == "held")
    if scene != "sitting" and rng.random() < 0.4:
        _toys(c, rng.randint(1, 2))
    return _camera(c.image.resize((size, size), Image.Resampling.LANCZOS), rng, night)


def _camera(image: Image.Image, rng: random.Random, night: bool) -> Image.Image:
    """Uneven light (dim and bluish at night), a colour cast, sensor noise, some blur."""
    pixels = np.asarray(image, dtype=np.float32)
    h, w, _ = pixels.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]  # (H,W,1)
    light = rng.uniform(0.4, 0.6) if night else rng.uniform(0.8, 1.15)
    light = light * (1 + rng.uniform(-0.3, 0.3) * (ramp - ramp.mean()))
    tint = np.array([rng.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    if night:
        tint *= np.array([0.85, 0.9, 1.1], dtype=np.float32)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(1, 8), pixels.shape)
    out = Image.fromarray(np.clip(pixels * light * tint + noise, 0, 255).astype(np.uint8))
    return out.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.8))) if rng.random() < 0.4 else out


def synthesize(
    out_dir: Path, *, images: int = 700, sessions: int = 35, size: int = 176, seed: int = 0,
    scenes: Sequence[str] = SCENES, on_image: Callable[[], None] | None = None,
) -> Path:
    """Write out_dir/<session>/<n>.jpg and out_dir/captions.csv
    (`image,caption,session,scene,captured_at`, one row per caption); returns the CSV."""
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    first_day = datetime(2026, 1, 5)
    rooms = [make_room(f"room{i:03d}", first_day + timedelta(days=i // 2, hours=9 if i % 2 == 0 else 21),
                       rng) for i in range(sessions)]
    records = []
    for n in range(images):
        room, scene = rooms[n % sessions], scenes[(n // sessions) % len(scenes)]
        when = room.start + timedelta(minutes=rng.uniform(0, 120))
        relative = Path(room.name) / f"{n:05d}.jpg"
        (out_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        night = not 7 <= when.hour < 19
        render_scene(scene, size, room, rng, night).save(out_dir / relative, quality=rng.randint(70, 95))
        records.append(SceneImage(relative.as_posix(), scene, room.name, when, captions_for(scene, rng)))
        if on_image:
            on_image()
    return write_captions_csv(out_dir / "captions.csv", records)


def write_captions_csv(path: Path, records: Sequence[SceneImage]) -> Path:
    with Path(path).open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image", "caption", "session", "scene", "captured_at"])
        for record in records:
            for caption in record.captions:
                writer.writerow([record.image, caption, record.session, record.scene,
                                 record.captured_at.isoformat(timespec="seconds")])
    return Path(path)


def render_clip(out_dir: Path, scenes: Sequence[str], *, size: int = 176, seed: int = 0,
                start: datetime | None = None) -> list[Path]:
    """A demo clip: one frame per scene in order, in one room, as out_dir/frame_NNNN.jpg."""
    rng = random.Random(seed)
    room = make_room("clip", start or datetime(2026, 1, 5, 21), rng)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    for n, scene in enumerate(scenes):
        night = not 7 <= (room.start + timedelta(minutes=n)).hour < 19
        frames.append(out_dir / f"frame_{n:04d}.jpg")
        render_scene(scene, size, room, rng, night).save(frames[-1], quality=90)
    return frames
