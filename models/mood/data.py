"""Labelled photos: reading them, checking them, splitting them without leakage.

Two layouts are accepted:

    folder/<label>/[<session>/]*.jpg      a folder per class (optionally per session)
    manifest.csv                          path,label,captured_at,session (paths relative
                                          to the manifest; captured_at in ISO 8601)

Photos from one session (or one day) are near-duplicates of each other, so a split keeps
each session wholly on one side; a random split by frame would leak and flatter the model.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset, WeightedRandomSampler

from models.images import DataError, open_rgb

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
GroupBy = Literal["session", "day"]


@dataclass(frozen=True)
class Sample:
    path: Path
    label: str
    captured_at: datetime | None = None
    session: str = ""

    def group(self, by: GroupBy) -> str:
        """The unit that must not straddle a split: the session, else the day."""
        if by == "session" and self.session:
            return self.session
        if self.captured_at is not None:
            return self.captured_at.date().isoformat()
        return self.session or self.path.parent.as_posix()


@dataclass(frozen=True)
class Split:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]






def scan_folder(root: Path, classes: Sequence[str] | None = None) -> list[Sample]:
    """Samples from root/<label>/[<session>/]image; the day comes from EXIF or mtime."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder of class folders")
    labels = list(classes) if classes else sorted(p.name for p in root.iterdir() if p.is_dir())
    samples = []
    for label in labels:
        for path in sorted((root / label).rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                session = path.parent.name if path.parent != root / label else ""
                samples.append(Sample(path, label, _taken_at(path), session))
    if not samples:
        raise DataError(f"no images under {root}/<label>/ (looked for {', '.join(labels)})")
    return samples


def read_manifest(manifest: Path) -> list[Sample]:
    """Samples from a CSV with columns path,label,captured_at,session."""
    manifest = Path(manifest)
    samples = []
    with manifest.open(newline="") as stream:
        rows = csv.DictReader(stream)
        missing = {"path", "label"} - set(rows.fieldnames or ())
        if missing:
            raise DataError(f"{manifest} lacks column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(rows, start=2):
            try:
                when = datetime.fromisoformat(row["captured_at"]) if row.get("captured_at") else None
            except ValueError as exc:
                raise DataError(f"{manifest}:{line}: captured_at {row['captured_at']!r} "
                                "is not ISO 8601 (2024-05-01T14:03:00)") from exc
            path = manifest.parent / row["path"]
            samples.append(Sample(path, row["label"].strip(), when,
                                  (row.get("session") or "").strip()))
    return samples


def load_samples(source: Path, classes: Sequence[str] | None = None) -> list[Sample]:
    """A folder per class, or a CSV manifest; a label outside `classes` is an error."""
    source = Path(source)
    samples = read_manifest(source) if source.suffix == ".csv" else scan_folder(source)
    if classes:
        unknown = sorted({s.label for s in samples} - set(classes))
        if unknown:
            raise DataError(f"labels {unknown} are not among the classes {list(classes)}: "
                            "add them to the classes, or move those photos out")
    return samples


def check_images(samples: Sequence[Sample]) -> tuple[list[Sample], list[tuple[Path, str]]]:
    """Split into decodable samples and (path, reason) for each one that is not."""
    good, bad = [], []
    for sample in samples:
        try:
            open_rgb(sample.path)
        except DataError as exc:
            bad.append((sample.path, str(exc.__cause__ or exc)))
        else:
            good.append(sample)
    return good, bad


def class_counts(samples: Sequence[Sample], classes: Sequence[str]) -> dict[str, int]:
    counts = Counter(s.label for s in samples)
    return {label: counts.get(label, 0) for label in classes}


def split_samples(
    samples: Sequence[Sample],
    by: GroupBy = "session",
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> Split:
    """Stratified split that keeps every session (or day) wholly on one side."""
    rest, test = _hold_out(list(samples), by, test_fraction, seed, keep=2 if val_fraction else 1)
    train, val = _hold_out(rest, by, val_fraction / (1 - test_fraction), seed + 1, keep=1)
    return Split(train, val, test)


def _hold_out(
    samples: list[Sample], by: GroupBy, fraction: float, seed: int, keep: int
) -> tuple[list[Sample], list[Sample]]:
    """Greedy stratified group split: whole groups, in a seeded random order, go to the
    held-out side while that brings its per-class counts closer to `fraction` of each,
    leaving at least `keep` groups behind."""
    if fraction <= 0:
        return samples, []
    members: dict[str, list[int]] = {}
    for i, sample in enumerate(samples):
        members.setdefault(sample.group(by), []).append(i)
    if len(members) < keep + 1:
        raise DataError(f"the photos come from {len(members)} {by}(s): this split needs at "
                        f"least {keep + 1}, since a {by} is never cut in two (that would leak)")
    labels = sorted({s.label for s in samples})
    column = {label: k for k, label in enumerate(labels)}
    counts = {
        group: np.bincount([column[samples[i].label] for i in rows], minlength=len(labels))
        for group, rows in members.items()
    }
    target = fraction * sum(counts.values())  # (K,) wanted held-out photos per class
    order = sorted(members)
    random.Random(seed).shuffle(order)
    held_counts, held = np.zeros(len(labels)), list[str]()
    for group in order:
        after = held_counts + counts[group]
        closer = np.abs(after - target).sum() < np.abs(held_counts - target).sum()
        if closer and len(order) - len(held) - 1 >= keep:
            held_counts, held = after, [*held, group]
    if not held:  # every group is bigger than the share: hold out the smallest one
        held = [min(order, key=lambda group: len(members[group]))]
    chosen = set(held)
    kept = [s for s in samples if s.group(by) not in chosen]
    return kept, [s for s in samples if s.group(by) in chosen]


def write_split(split: Split, path: Path) -> Path:
    """Which photos went where, as JSON, so a run's held-out photos can be scored later."""
    def rows(samples: list[Sample]) -> list[dict[str, str]]:
        return [{"path": str(s.path), "label": s.label, "session": s.session,
                 "captured_at": s.captured_at.isoformat() if s.captured_at else ""}
                for s in samples]

    path.write_text(json.dumps({"train": rows(split.train), "val": rows(split.val),
                                "test": rows(split.test)}, indent=1))
    return path


def read_split(path: Path) -> Split:
    raw = json.loads(Path(path).read_text())
    parts = [[Sample(Path(r["path"]), r["label"],
                     datetime.fromisoformat(r["captured_at"]) if r["captured_at"] else None,
                     r["session"]) for r in raw[part]] for part in ("train", "val", "test")]
    return Split(*parts)


def class_weights(samples: Sequence[Sample], classes: Sequence[str]) -> torch.Tensor:
    """Inverse-frequency loss weights (mean 1); an absent class gets weight 0."""
    counts = torch.tensor(list(class_counts(samples, classes).values()), dtype=torch.float)
    weights = torch.where(counts > 0, counts.sum() / counts.clamp(min=1), torch.zeros(1))
    return weights * (counts > 0).sum() / weights.sum()


def balanced_sampler(samples: Sequence[Sample], seed: int = 0) -> WeightedRandomSampler:
    """Draws each class equally often in expectation (with replacement)."""
    counts = Counter(s.label for s in samples)
    weights = [1.0 / counts[s.label] for s in samples]
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(weights, len(samples), replacement=True, generator=generator)


class MoodDataset(Dataset[tuple[torch.Tensor, int]]):
    """(image tensor, class index) pairs; images are decoded on access."""

    def __init__(
        self,
        samples: Sequence[Sample],
        classes: Sequence[str],
        transform: Callable[[Image.Image], torch.Tensor],
    ) -> None:
        self.samples = list(samples)
        self.index = {label: i for i, label in enumerate(classes)}
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        sample = self.samples[i]
        return self.transform(open_rgb(sample.path)), self.index[sample.label]


def _taken_at(path: Path) -> datetime:
    """EXIF DateTimeOriginal (or DateTime) when the file has one, else its mtime."""
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            stamp = exif.get_ifd(0x8769).get(36867) or exif.get(306)
        if stamp:
            return datetime.strptime(str(stamp).strip(), "%Y:%m:%d %H:%M:%S")
    except (OSError, ValueError, UnidentifiedImageError):
        pass
    return datetime.fromtimestamp(path.stat().st_mtime)

