"""Synthetic nursery scenes, as a room camera over a cot sees them: each frame with
reference captions and the baby's mood. For tests and the demo models. Not real data.

A cartoon room (wall, floor, and some of: cot, stairs, window, door, toys, a parent)
with a baby in one of SCENES, each with its cue: sleeping lies in the cot under a
blanket, awake sits up in the cot, sitting sits on the floor by toys, crawling is on all
fours at the foot of the stairs, standing reaches up under the window, climbing hangs
over the cot rail, empty shows a cot with nobody in it, held has the baby in a parent's
arms. The baby's face shows its mood (MOODS_IN says which moods each scene can have):
sleep has closed eyes, happy smiles with rosy cheeks, upset goes red with tears and an
open crying mouth, feed has a bottle at the mouth. Both demo models learn from these
frames, so the mood classifier and the captioner read the same framing the demo camera
shows. Colours, positions, sizes, distractor furniture, day or night, light and noise
vary. A session is one room (its colours and the baby's clothes) like a family's camera
session, so a split by session keeps near-duplicates together. Each image gets 3-5
captions from templates with synonyms.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
# papered: another family's nursery, which the demo models never saw: striped wallpaper,
# a wooden floor, a cheap wide lens under a warm lamp
Style = Literal["cartoon", "papered"]
SCENES = ("sleeping", "awake", "sitting", "crawling", "standing", "climbing", "empty", "held")
# The moods a scene can show; the first is the one drawn when none is asked for. Nobody
# is in an empty cot, so it shows no mood.
MOODS_IN: dict[str, tuple[str, ...]] = {
    "sleeping": ("sleep",), "awake": ("happy", "upset"), "sitting": ("happy", "upset"),
    "crawling": ("happy",), "standing": ("happy",), "climbing": ("happy", "upset"),
    "empty": (), "held": ("feed", "happy", "upset"),
}
# The scene tags (services/settings: teach.tags) a caregiver would give each scene.
TAGS_OF: dict[str, tuple[str, ...]] = {
    "sleeping": ("in_cot",), "awake": ("in_cot",), "sitting": ("on_floor",),
    "crawling": ("on_floor", "near_stairs"), "standing": ("at_window",), "climbing": ("climbing",),
    "empty": ("cot_empty",), "held": ("held",),
}
SKIN = [(255, 224, 196), (241, 194, 157), (224, 172, 125), (198, 134, 92), (141, 90, 56)]
BABY, COT = ("the baby", "a baby", "the infant"), ("cot", "crib")
TEMPLATES: dict[str, tuple[str, ...]] = {
    "sleeping": ("{b} is sleeping in the {c}", "{b} is asleep in the {c}",
                 "{b} sleeps in the {c}", "{b} is lying asleep in the {c}"),
    "awake": ("{b} is awake in the {c}", "{b} is sitting up in the {c}",
              "{b} is lying awake in the {c}", "{b} is awake and sitting in the {c}"),
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
    mood: str = ""  # the baby's mood; empty when nobody is in the picture


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


def _cot(c: _Canvas, x: float, blanket: RGB,
         inside: Callable[[float, float, float], None] | None = None) -> tuple[float, float, float]:
    """A cot on the floor; returns (left, right, top rail) of its frame. `inside(left,
    right, top)` draws what sits on the mattress, behind the bars."""
    w, h = c.rng.uniform(0.3, 0.36), c.rng.uniform(0.2, 0.24)
    bottom = c.horizon + c.rng.uniform(0.1, 0.14)
    top = bottom - h
    wood = _jitter(c.room.wood, c.rng, 20)
    c.box(x - w / 2, bottom - 0.07, x + w / 2, bottom - 0.03, blanket)  # mattress and blanket
    if inside is not None:
        inside(x - w / 2, x + w / 2, top)
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


def _head(c: _Canvas, x: float, y: float, r: float, mood: str) -> None:
    """The baby's face, its mood drawn large enough to read at a room camera's distance."""
    skin = c.room.skin
    if mood == "upset":  # a crying baby goes red in the face
        skin = (min(255, skin[0] + 40), int(skin[1] * 0.8), int(skin[2] * 0.8))
    c.oval(x, y, r, r, skin)
    dark: RGB = (int(skin[0] * 0.35), int(skin[1] * 0.35), int(skin[2] * 0.35))
    eye_y, eye_dx = y - 0.12 * r, 0.4 * r
    for sx in (-1, 1):
        ex = x + sx * eye_dx
        if mood in ("sleep", "upset"):  # closed, or squeezed shut by crying
            sag = 0.12 * r if mood == "sleep" else -0.12 * r
            c.line([(ex - 0.2 * r, eye_y), (ex, eye_y + sag), (ex + 0.2 * r, eye_y)], dark, 0.1 * r)
        else:
            c.oval(ex, eye_y, 0.14 * r, 0.14 * r, dark)
        if mood == "upset":  # tears running down to the chin
            c.line([(ex, eye_y + 0.1 * r), (ex + sx * 0.08 * r, y + 0.75 * r)], (90, 160, 240), 0.16 * r)
        if mood == "happy":  # rosy cheeks
            c.oval(x + sx * 0.55 * r, y + 0.28 * r, 0.16 * r, 0.11 * r, (240, 120, 120))
    mouth_y = y + 0.45 * r
    if mood == "happy":  # a wide open smile
        s = c.side
        c.draw.chord(((x - 0.42 * r) * s, (mouth_y - 0.3 * r) * s, (x + 0.42 * r) * s,
                      (mouth_y + 0.3 * r) * s), 0, 180, fill=(150, 40, 50))
    elif mood == "upset":  # wide open, crying
        c.oval(x, mouth_y + 0.05 * r, 0.28 * r, 0.24 * r, (90, 20, 30))
    elif mood == "sleep":
        c.line([(x - 0.18 * r, mouth_y), (x + 0.18 * r, mouth_y)], dark, 0.08 * r)
    elif mood == "feed":  # a bottle at the mouth, pointing up and away
        d = 1 if c.rng.random() < 0.5 else -1
        tip = (x + d * 0.1 * r, mouth_y)
        end = (x + d * 1.5 * r, mouth_y - 1.1 * r)
        c.line([tip, end], (245, 245, 240), 0.45 * r)  # milk
        c.line([tip, (x + d * 0.35 * r, mouth_y - 0.2 * r)], (220, 170, 110), 0.22 * r)  # teat
        collar = (x + d * 0.42 * r, mouth_y - 0.26 * r)
        c.oval(collar[0], collar[1], 0.2 * r, 0.2 * r, _jitter((80, 140, 220), c.rng, 50))


def _baby(c: _Canvas, pose: str, x: float, y: float, r: float, mood: str) -> None:
    """The baby at (x, y) = where it touches the floor (or lies), head radius r."""
    cl, skin = c.room.clothes, c.room.skin
    up = mood == "upset"  # an upset baby throws its arms up
    if pose == "sitting":
        c.oval(x, y - 1.4 * r, 1.1 * r, 1.4 * r, cl)  # body
        c.line([(x - r, y - 0.2 * r), (x + 2.2 * r, y - 0.1 * r)], cl, 0.8 * r)  # legs forward
        hand = -3.2 if up else -0.9
        c.line([(x - r, y - 1.8 * r), (x - 1.7 * r, y + hand * r)], skin, 0.45 * r)  # arms
        c.line([(x + r, y - 1.8 * r), (x + 1.8 * r, y + hand * r)], skin, 0.45 * r)
        _head(c, x, y - 3.5 * r, r, mood)
    elif pose == "awake":  # sitting on the mattress behind the bars, only the head above the rail
        c.oval(x, y - 1.2 * r, 1.1 * r, 1.3 * r, cl)
        c.line([(x - r, y - 1.6 * r), (x - 0.5 * r, y - 0.4 * r)], skin, 0.45 * r)
        c.line([(x + r, y - 1.6 * r), (x + 0.5 * r, y - 0.4 * r)], skin, 0.45 * r)
    elif pose == "crawling":  # on all fours, facing the stairs
        d = 1 if c.rng.random() < 0.5 else -1
        c.oval(x, y - 1.6 * r, 1.9 * r, 0.8 * r, cl)  # horizontal body
        for leg in (-1.3, -0.9, 0.9, 1.3):
            c.line([(x + d * leg * r, y - 1.4 * r), (x + d * leg * r, y)], skin if abs(leg) < 1.1 else cl,
                   0.4 * r)
        _head(c, x + d * 2.4 * r, y - 2.0 * r, r, mood)
    elif pose == "standing":  # upright, arms up to the sill
        c.line([(x - 0.4 * r, y), (x - 0.4 * r, y - 1.8 * r)], cl, 0.6 * r)
        c.line([(x + 0.4 * r, y), (x + 0.4 * r, y - 1.8 * r)], cl, 0.6 * r)
        c.oval(x, y - 2.8 * r, 1.0 * r, 1.4 * r, cl)
        c.line([(x - 0.8 * r, y - 3.6 * r), (x - 1.0 * r, y - 5.6 * r)], skin, 0.4 * r)
        c.line([(x + 0.8 * r, y - 3.6 * r), (x + 1.0 * r, y - 5.6 * r)], skin, 0.4 * r)
        _head(c, x, y - 4.9 * r, r, mood)
    elif pose == "sleeping":  # lying down under a blanket
        c.oval(x, y, 2.2 * r, 0.7 * r, _jitter(cl, c.rng, 30))
        _head(c, x - 2.4 * r, y - 0.2 * r, 0.95 * r, mood)
    elif pose == "climbing":  # body over the rail, one leg hooked over
        d = 1 if c.rng.random() < 0.5 else -1
        c.oval(x, y - 0.6 * r, 1.0 * r, 1.5 * r, cl)
        c.line([(x, y), (x + d * 2.0 * r, y + 1.2 * r)], cl, 0.6 * r)  # leg over the side
        c.line([(x, y), (x - d * 0.6 * r, y + 1.8 * r)], cl, 0.6 * r)  # leg still inside
        c.line([(x - r, y - 1.2 * r), (x - 1.4 * r, y + 0.3 * r)], skin, 0.4 * r)  # hands on rail
        c.line([(x + r, y - 1.2 * r), (x + 1.4 * r, y + 0.3 * r)], skin, 0.4 * r)
        _head(c, x + d * 0.3 * r, y - 2.6 * r, r, mood)


def _parent(c: _Canvas, x: float, holding: bool, baby_r: float, mood: str) -> None:
    r = c.rng.uniform(0.058, 0.068)
    foot = c.horizon + c.rng.uniform(0.22, 0.3)
    adult = c.room.adult
    c.line([(x - 0.4 * r, foot), (x - 0.4 * r, foot - 4 * r)], (50, 50, 70), 0.8 * r)
    c.line([(x + 0.4 * r, foot), (x + 0.4 * r, foot - 4 * r)], (50, 50, 70), 0.8 * r)
    c.box(x - 1.2 * r, foot - 8.5 * r, x + 1.2 * r, foot - 3.8 * r, adult)
    head = _jitter(SKIN[c.rng.randrange(len(SKIN))], c.rng)
    c.oval(x, foot - 9.6 * r, 1.1 * r, 1.2 * r, head)
    if holding:  # a bundle in the arms: the baby's clothes and face
        c.oval(x + 0.4 * r, foot - 6.2 * r, 1.6 * r, 0.9 * r, c.room.clothes)
        _head(c, x + 1.4 * r + baby_r, foot - 6.8 * r, baby_r, mood)
        c.line([(x - 1.1 * r, foot - 7.8 * r), (x + 1.2 * r, foot - 5.5 * r)], adult, 0.6 * r)
    else:
        c.line([(x - 1.2 * r, foot - 8 * r), (x - 1.5 * r, foot - 4.5 * r)], adult, 0.6 * r)
        c.line([(x + 1.2 * r, foot - 8 * r), (x + 1.5 * r, foot - 4.5 * r)], adult, 0.6 * r)


def render_scene(scene: str, size: int, room: Room, rng: random.Random, night: bool = False,
                 mood: str | None = None, style: Style = "cartoon") -> Image.Image:
    """One RGB frame of `size` pixels showing `scene` in `room`, the baby with `mood`
    (one of MOODS_IN[scene]; None or "": the scene's first), through a camera of `style`."""
    if scene not in SCENES:
        raise ValueError(f"the generator draws {', '.join(SCENES)}, not {scene!r}")
    allowed = MOODS_IN[scene]
    if not mood:
        mood = allowed[0] if allowed else ""
    elif mood not in allowed:
        raise ValueError(f"a {scene} scene shows {', '.join(allowed) or 'no mood'}, not {mood!r}")
    c = _Canvas(size * 2, room, rng)  # drawn at twice the size, then downsampled
    if style == "papered":
        _wallpaper(c)
    _floor(c)
    if style == "papered":
        _planks(c)
    side = rng.random() < 0.5  # True: the scene's main furniture on the left
    main_x = rng.uniform(0.3, 0.4) if side else rng.uniform(0.6, 0.7)
    other_x = 1 - main_x + rng.uniform(-0.05, 0.05)
    if scene == "standing" or rng.random() < 0.3:
        _window(c, main_x if scene == "standing" else other_x, night)
    elif rng.random() < 0.4:
        _door(c, other_x)
    r = rng.uniform(0.07, 0.085)  # the baby's head radius: the face must show the mood
    blanket = _colour(rng)
    if scene == "crawling":
        foot, base = _stairs(c, left=side)
        _baby(c, "crawling", foot + (1 if side else -1) * rng.uniform(0.1, 0.14), base + 0.03, r, mood)
    elif scene in ("sleeping", "awake", "climbing", "empty"):
        shift = rng.uniform(-0.05, 0.05)

        def sitting_up(left: float, right: float, top: float) -> None:
            _baby(c, "awake", (left + right) / 2 + shift, top + 2.6 * r, r, mood)

        left, right, top = _cot(c, main_x, blanket, sitting_up if scene == "awake" else None)
        if scene == "awake":  # the face in front of the rail, so the mood shows
            _head(c, (left + right) / 2 + shift, top - 0.6 * r, r, mood)
        elif scene == "sleeping":
            _baby(c, "sleeping", (left + right) / 2 + 0.9 * r, top + 0.11, 0.85 * r, mood)
        elif scene == "climbing":
            _baby(c, "climbing", rng.uniform(left + 0.08, right - 0.08), top, r, mood)
    elif scene == "standing":
        _baby(c, "standing", main_x + rng.uniform(-0.04, 0.04), c.horizon + rng.uniform(0.05, 0.1), r, mood)
    elif scene == "sitting":
        _toys(c, rng.randint(2, 4))
        _baby(c, "sitting", main_x, c.horizon + rng.uniform(0.15, 0.25), r, mood)
    if scene == "held" or rng.random() < 0.15:
        _parent(c, main_x if scene == "held" else other_x, scene == "held", r, mood)
    if scene != "sitting" and rng.random() < 0.4:
        _toys(c, rng.randint(1, 2))
    picture = _camera(c.image.resize((size, size), Image.Resampling.LANCZOS), rng, night)
    return _warm_lens(picture) if style == "papered" else picture


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


def pick_mood(scene: str, rng: random.Random) -> str:
    """A mood the scene can show; its first (usual) mood twice as often as each other."""
    moods = MOODS_IN[scene]
    if not moods:
        return ""
    return rng.choices(moods, weights=[2] + [1] * (len(moods) - 1))[0]


def _wallpaper(c: _Canvas) -> None:
    """Striped and flowered wallpaper over the whole wall."""
    light = _jitter(c.room.wall, c.rng, 20)
    dark = (int(light[0] * 0.45), int(light[1] * 0.45), int(light[2] * 0.5))
    stripe = c.rng.uniform(0.03, 0.05)
    x = 0.0
    while x < 1:
        c.box(x, 0, x + stripe / 2, c.horizon, dark)
        for y in range(int(c.horizon / stripe)):
            c.oval(x + stripe * 0.75, (y + 0.5) * stripe, stripe * 0.18, stripe * 0.18, light)
        x += stripe


def _planks(c: _Canvas) -> None:
    """A wooden floor: planks and their seams, over the floor colour (the rug stays)."""
    seam = tuple(int(v * 0.55) for v in c.room.floor)
    y, gap = c.horizon, c.rng.uniform(0.035, 0.05)
    while y < 1:
        c.line([(0, y), (1, y)], seam, 0.004)  # type: ignore[arg-type]
        y += gap
        gap *= 1.12  # nearer planks look wider


def _warm_lens(image: Image.Image) -> Image.Image:
    """A cheap wide lens under a warm lamp: barrel distortion, orange cast, dark corners."""
    pixels = np.asarray(image, dtype=np.float32)
    h, w, _ = pixels.shape
    yy, xx = np.mgrid[0:h, 0:w]
    u, v = (xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)  # -1..1
    r2 = u * u + v * v
    bend = 1 - 0.18 * r2  # sample nearer the centre towards the edges: a fish-eye bulge
    sx = np.clip((u * bend + 1) * w / 2, 0, w - 1).astype(int)
    sy = np.clip((v * bend + 1) * h / 2, 0, h - 1).astype(int)
    pixels = pixels[sy, sx]
    falloff = (1 - 0.5 * r2 / 2)[..., None]
    warm = np.array([1.08, 1.0, 0.88], dtype=np.float32)
    return Image.fromarray(np.clip(pixels * warm * falloff, 0, 255).astype(np.uint8))


def synthesize(
    out_dir: Path, *, images: int = 700, sessions: int = 35, size: int = 176, seed: int = 0,
    scenes: Sequence[str] = SCENES, on_image: Callable[[], None] | None = None, style: Style = "cartoon",
) -> Path:
    """Write out_dir/<session>/<n>.jpg, out_dir/captions.csv
    (`image,caption,session,scene,captured_at,mood`, one row per caption) and
    out_dir/moods.csv (`path,label,captured_at,session`, the mood trainer's manifest, one
    row per image that shows a baby); returns the captions CSV."""
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
        mood = pick_mood(scene, rng)
        render_scene(scene, size, room, rng, night, mood, style).save(out_dir / relative,
                                                                      quality=rng.randint(70, 95))
        records.append(SceneImage(relative.as_posix(), scene, room.name, when,
                                  captions_for(scene, rng), mood))
        if on_image:
            on_image()
    write_moods_csv(out_dir / "moods.csv", records)
    return write_captions_csv(out_dir / "captions.csv", records)


def moods_csv(captions_csv: Path) -> Path:
    """The mood manifest `synthesize` wrote beside `captions_csv`."""
    return Path(captions_csv).with_name("moods.csv")


def write_captions_csv(path: Path, records: Sequence[SceneImage]) -> Path:
    with Path(path).open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image", "caption", "session", "scene", "captured_at", "mood"])
        for record in records:
            for caption in record.captions:
                writer.writerow([record.image, caption, record.session, record.scene,
                                 record.captured_at.isoformat(timespec="seconds"), record.mood])
    return Path(path)


def write_moods_csv(path: Path, records: Sequence[SceneImage]) -> Path:
    with Path(path).open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "label", "captured_at", "session"])
        for record in records:
            if record.mood:
                writer.writerow([record.image, record.mood,
                                 record.captured_at.isoformat(timespec="seconds"), record.session])
    return Path(path)


def render_clip(out_dir: Path, scenes: Sequence[str | tuple[str, str]], *, size: int = 176,
                seed: int = 0, start: datetime | None = None) -> list[Path]:
    """A clip: one frame per scene (or (scene, mood)) in order, in one room, as
    out_dir/frame_NNNN.jpg."""
    rng = random.Random(seed)
    room = make_room("clip", start or datetime(2026, 1, 5, 21), rng)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    for n, shot in enumerate(scenes):
        scene, mood = (shot, None) if isinstance(shot, str) else shot
        night = not 7 <= (room.start + timedelta(minutes=n)).hour < 19
        frames.append(out_dir / f"frame_{n:04d}.jpg")
        render_scene(scene, size, room, rng, night, mood).save(frames[-1], quality=90)
    return frames
