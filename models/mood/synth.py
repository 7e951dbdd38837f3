"""Synthetic nursery photos: cartoon baby faces, one look per mood. Not real data.

Each mood has its cue: sleep has closed eyes, upset has tears and an open crying mouth,
happy smiles, feed has a bottle at the mouth. Everything else varies, so the cue is the
only thing to learn: skin tone, hair, face position, size and tilt, the room and blanket,
cot bars in front of the face, lighting, noise and JPEG quality. A session is one baby in
one room at one time of day, like a family's real photo sessions, so splits by session
behave as they would on real photos (near-duplicates stay together).
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

from models.mood import MOODS

SKIN = [(255, 224, 196), (241, 194, 157), (224, 172, 125), (198, 134, 92), (161, 102, 63),
        (120, 74, 45), (92, 56, 36)]
HAIR = [(40, 28, 20), (90, 60, 30), (200, 160, 90), (150, 70, 30), (20, 20, 20)]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Session:
    """One baby in one room: what stays fixed across a session's photos."""

    name: str
    skin: RGB
    hair: RGB
    room: RGB
    blanket: RGB
    pattern: str  # plain, stripes or dots
    start: datetime


def _jitter(colour: Sequence[int], rng: random.Random, amount: int) -> RGB:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def _random_colour(rng: random.Random, low: int = 60, high: int = 240) -> RGB:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def make_session(name: str, start: datetime, rng: random.Random) -> Session:
    return Session(name, _jitter(rng.choice(SKIN), rng, 15), _jitter(rng.choice(HAIR), rng, 15),
                   _random_colour(rng), _random_colour(rng),
                   rng.choice(["plain", "stripes", "dots"]), start)


def draw_face(mood: str, size: int, session: Session, rng: random.Random) -> Image.Image:
    """One RGB photo of `size` pixels showing a baby with `mood`."""
    if mood not in MOODS:
        raise ValueError(f"the generator draws {', '.join(MOODS)}, not {mood!r}")
    big = size * 2  # drawn at twice the size, then downsampled: smooth edges
    image = _background(big, session, rng)
    r = rng.uniform(0.24, 0.33) * big
    face = _face_layer(mood, r, session, rng).rotate(rng.uniform(-25, 25), Image.Resampling.BICUBIC)
    cx, cy = rng.uniform(0.38, 0.62) * big, rng.uniform(0.38, 0.62) * big
    image.paste(face, (int(cx - face.width / 2), int(cy - face.height / 2)), face)
    if rng.random() < 0.15:
        _cot_bars(image, rng)
    return _camera(image.resize((size, size), Image.Resampling.LANCZOS), rng)


def _background(big: int, session: Session, rng: random.Random) -> Image.Image:
    image = Image.new("RGB", (big, big), _jitter(session.room, rng, 20))
    draw = ImageDraw.Draw(image)
    top = int(rng.uniform(0.5, 0.8) * big)  # the blanket covers the bottom of the frame
    blanket = _jitter(session.blanket, rng, 15)
    draw.rectangle((0, top, big, big), fill=blanket)
    step = max(6, big // rng.randint(6, 12))
    shade = _jitter(blanket, rng, 60)
    if session.pattern == "stripes":
        for x in range(0, big, step):
            draw.rectangle((x, top, x + step // 3, big), fill=shade)
    elif session.pattern == "dots":
        for x in range(step // 2, big, step):
            for y in range(top + step // 2, big, step):
                draw.ellipse((x - step / 6, y - step / 6, x + step / 6, y + step / 6), fill=shade)
    return image


def _face_layer(mood: str, r: float, session: Session, rng: random.Random) -> Image.Image:
    side = int(3.2 * r)
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    c = side / 2
    skin = _jitter(session.skin, rng, 8)
    if mood == "upset":  # a crying baby goes red in the face
        skin = (min(255, skin[0] + 30), int(skin[1] * 0.85), int(skin[2] * 0.85))
    dark = tuple(int(v * 0.45) for v in skin)
    line = max(2, int(r * 0.08))
    for sx in (-1, 1):  # ears
        d.ellipse((c + sx * r - 0.18 * r, c - 0.2 * r, c + sx * r + 0.18 * r, c + 0.2 * r),
                  fill=skin)
    d.ellipse((c - r, c - 1.05 * r, c + r, c + 0.95 * r), fill=skin)
    for _ in range(rng.randint(1, 4)):  # a few curls of hair
        x = c + rng.uniform(-0.4, 0.4) * r
        d.arc((x - 0.25 * r, c - 1.25 * r, x + 0.25 * r, c - 0.8 * r), 180, 360,
              fill=session.hair, width=line)
    if rng.random() < 0.6:  # rosy cheeks
        for sx in (-1, 1):
            x, y = c + sx * 0.55 * r, c + 0.25 * r
            d.ellipse((x - 0.14 * r, y - 0.09 * r, x + 0.14 * r, y + 0.09 * r),
                      fill=_jitter((235, 130, 130), rng, 20))
    eye_y, eye_dx, e = c - 0.15 * r, rng.uniform(0.33, 0.42) * r, rng.uniform(0.11, 0.15) * r
    for sx in (-1, 1):
        x = c + sx * eye_dx
        if mood == "sleep" or (mood == "upset" and rng.random() < 0.5):
            d.arc((x - e, eye_y - e, x + e, eye_y + e), 20, 160, fill=dark, width=line)
            if mood == "sleep":  # lashes
                for t in (-0.5, 0.0, 0.5):
                    d.line((x + t * e, eye_y + 0.9 * e, x + 1.3 * t * e, eye_y + 1.4 * e),
                           fill=dark, width=max(1, line // 2))
        elif mood == "happy" and rng.random() < 0.15:
            d.arc((x - e, eye_y - 0.3 * e, x + e, eye_y + 1.6 * e), 200, 340, fill=dark,
                  width=line)
        else:
            d.ellipse((x - e, eye_y - 1.1 * e, x + e, eye_y + 1.1 * e), fill=(250, 250, 250))
            px, p = x + rng.uniform(-0.3, 0.3) * e, 0.6 * e
            d.ellipse((px - p, eye_y - p, px + p, eye_y + p), fill=(30, 25, 25))
        if mood == "upset":  # brows raised in the middle, and tears running down
            d.line((x - sx * 1.2 * e, eye_y - 1.8 * e, x + sx * 1.1 * e, eye_y - 1.3 * e),
                   fill=dark, width=line)
            tear = rng.uniform(0.6, 1.0) * r
            d.line((x + sx * 0.5 * e, eye_y + e, x + sx * 0.6 * e, eye_y + tear),
                   fill=(110, 170, 240), width=2 * line)
            d.ellipse((x + sx * 0.6 * e - 0.08 * r, eye_y + tear - 0.08 * r,
                       x + sx * 0.6 * e + 0.08 * r, eye_y + tear + 0.1 * r), fill=(90, 160, 240))
    _mouth(d, mood, c, r, dark, line, rng)
    return layer


def _mouth(d: ImageDraw.ImageDraw, mood: str, c: float, r: float, dark: tuple[int, ...],
           line: int, rng: random.Random) -> None:
    y = c + rng.uniform(0.4, 0.5) * r
    w = rng.uniform(0.25, 0.4) * r
    if mood == "happy":
        if rng.random() < 0.5:
            d.arc((c - w, y - 0.6 * w, c + w, y + 0.6 * w), 10, 170, fill=dark, width=line)
        else:
            d.chord((c - w, y - 0.5 * w, c + w, y + 0.7 * w), 0, 180, fill=(150, 40, 50))
    elif mood == "upset":
        h = rng.uniform(0.3, 0.45) * r
        d.ellipse((c - 0.7 * w, y - 0.6 * h, c + 0.7 * w, y + h), fill=(110, 25, 35))
        d.ellipse((c - 0.4 * w, y + 0.3 * h, c + 0.4 * w, y + 0.9 * h), fill=(220, 110, 120))
    elif mood == "sleep":
        d.line((c - 0.4 * w, y, c + 0.4 * w, y), fill=dark, width=line)
    else:  # feed: a bottle held at the mouth, pointing up and out
        angle = np.radians(rng.uniform(-150, -30))
        ux, uy = float(np.cos(angle)), float(np.sin(angle))
        length, half = rng.uniform(1.2, 1.6) * r, rng.uniform(0.2, 0.26) * r
        nx, ny = -uy, ux

        def at(along: float, across: float) -> tuple[float, float]:
            return (c + ux * along + nx * across, y + uy * along + ny * across)

        d.polygon([at(0, -0.35 * half), at(0, 0.35 * half), at(0.3 * r, 0.6 * half),
                   at(0.3 * r, -0.6 * half)], fill=(220, 170, 110))  # teat
        d.polygon([at(0.25 * r, -half * 1.2), at(0.25 * r, half * 1.2), at(0.35 * r, half * 1.2),
                   at(0.35 * r, -half * 1.2)], fill=_jitter((80, 140, 220), rng, 60))  # collar
        d.polygon([at(0.35 * r, -half), at(0.35 * r, half), at(length, half),
                   at(length, -half)], fill=(245, 245, 240))  # milk
        level = rng.uniform(0.5, 0.9) * length
        d.polygon([at(level, -half), at(level, half), at(length, half), at(length, -half)],
                  fill=(200, 225, 240))  # the empty part, faintly blue


def _cot_bars(image: Image.Image, rng: random.Random) -> None:
    d = ImageDraw.Draw(image)
    colour, width = _jitter((235, 225, 210), rng, 20), max(3, image.width // 60)
    gap = image.width // rng.randint(3, 5)
    for x in range(rng.randint(0, gap), image.width, gap):
        d.rectangle((x, 0, x + width, image.height), fill=colour)


def _camera(image: Image.Image, rng: random.Random) -> Image.Image:
    """Uneven light, colour cast, blur and sensor noise."""
    pixels = np.asarray(image, dtype=np.float32)
    h, w, _ = pixels.shape
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]  # (H,W,1)
    light = rng.uniform(0.65, 1.2) * (1 + rng.uniform(-0.35, 0.35) * (ramp - ramp.mean()))
    tint = np.array([rng.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(0, 10), pixels.shape)
    pixels = np.clip(pixels * light * tint + noise, 0, 255).astype(np.uint8)
    out = Image.fromarray(pixels)
    return out.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8))) if rng.random() < 0.5 else out


def synthesize(
    out_dir: Path, *, per_class: int = 100, sessions: int = 24, size: int = 176, seed: int = 0,
    classes: Sequence[str] = MOODS, imbalance: float = 0.0,
    on_image: Callable[[], None] | None = None,
) -> Path:
    """Write out_dir/<mood>/<session>/<n>.jpg and out_dir/manifest.csv; returns the manifest.

    Two sessions a day (morning, evening); `imbalance` in [0, 1) thins later classes
    (the last class keeps 1 - imbalance of `per_class`)."""
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    first_day = datetime(2026, 1, 5)
    room = [make_session(f"day{i // 2:02d}-{'am' if i % 2 == 0 else 'pm'}",
                         first_day + timedelta(days=i // 2, hours=8 if i % 2 == 0 else 17), rng)
            for i in range(sessions)]
    rows = []
    for k, mood in enumerate(classes):
        count = round(per_class * (1 - imbalance * k / max(len(classes) - 1, 1)))
        for n in range(count):
            session = room[n % sessions]
            when = session.start + timedelta(minutes=rng.uniform(0, 180))
            relative = Path(mood) / session.name / f"{n:04d}.jpg"
            (out_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            draw_face(mood, size, session, rng).save(out_dir / relative,
                                                      quality=rng.randint(60, 95))
            rows.append([relative.as_posix(), mood, when.isoformat(timespec="seconds"),
                         session.name])
            if on_image:
                on_image()
    manifest = out_dir / "manifest.csv"
    with manifest.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "label", "captured_at", "session"])
        writer.writerows(rows)
    return manifest
