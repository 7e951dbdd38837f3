"""Captioned images: reading the standard formats, splitting without leakage, batching.

    captions.json   COCO captions: {"images": [{id, file_name}], "annotations":
                    [{image_id, caption}]}; images under `images` (default: beside it)
    captions.txt    Flickr8k: `image,caption` lines (header optional)
    *.token.txt     Flickr8k token file: `image#n<TAB>caption`
    *.csv           `image,caption[,session][,tags]` with a header (tags: scene tags
                    separated by ";"); more columns are ignored

Several rows per image gather into one CaptionedImage. A split keeps each session (or
each image, where no session is given) wholly on one side, so no near-duplicate of a
test image is trained on.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from PIL import Image
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from models.caption.vocab import Vocab
from models.images import DataError, open_rgb

Format = Literal["auto", "coco", "flickr", "csv"]




@dataclass(frozen=True)
class CaptionedImage:
    path: Path
    captions: tuple[str, ...]
    session: str = ""
    tags: tuple[str, ...] = ()  # scene tags the image shows (a CSV's `tags` column)


@dataclass(frozen=True)
class Split:
    train: list[CaptionedImage]
    val: list[CaptionedImage]
    test: list[CaptionedImage]




def _gather(rows: Iterable[tuple[Path, str, str] | tuple[Path, str, str, str]]) -> list[CaptionedImage]:
    captions: dict[Path, list[str]] = {}
    sessions: dict[Path, str] = {}
    tags: dict[Path, tuple[str, ...]] = {}
    for path, caption, session, *tagged in rows:
        if caption.strip():
            captions.setdefault(path, []).append(caption.strip())
            sessions.setdefault(path, session)
            tags.setdefault(path, tuple(t.strip() for t in (tagged[0] if tagged else "").split(";")
                                        if t.strip()))
    return [CaptionedImage(p, tuple(c), sessions[p], tags[p]) for p, c in captions.items()]


def read_coco(path: Path, images: Path | None = None) -> list[CaptionedImage]:
    raw = json.loads(Path(path).read_text())
    try:
        names = {entry["id"]: entry["file_name"] for entry in raw["images"]}
        root = images or Path(path).parent
        return _gather((root / names[a["image_id"]], a["caption"], "") for a in raw["annotations"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path} is not COCO captions JSON (images/annotations): missing {exc}") from exc


def read_flickr(path: Path, images: Path | None = None) -> list[CaptionedImage]:
    """Flickr8k captions.txt (`image,caption`) or token file (`image#n<TAB>caption`)."""
    path = Path(path)
    root = images or (path.parent / "Images" if (path.parent / "Images").is_dir() else path.parent)
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or (number == 1 and line.lower().startswith("image,")):
            continue
        name, sep, caption = line.partition("\t") if "\t" in line else line.partition(",")
        if not sep:
            raise DataError(f"{path}:{number}: expected `image,caption` or `image#n<TAB>caption`")
        rows.append((root / name.split("#")[0].strip(), caption, ""))
    return _gather(rows)


def read_csv(path: Path, images: Path | None = None) -> list[CaptionedImage]:
    root = images or Path(path).parent
    with Path(path).open(newline="") as stream:
        reader = csv.DictReader(stream)
        if not reader.fieldnames or not {"image", "caption"} <= set(reader.fieldnames):
            raise DataError(f"{path} needs a header with `image` and `caption` columns "
                            f"(found {reader.fieldnames})")
        return _gather((root / row["image"], row["caption"] or "", row.get("session") or "",
                        row.get("tags") or "") for row in reader)


def load_captions(path: Path, images: Path | None = None, fmt: Format = "auto") -> list[CaptionedImage]:
    """Captioned images from a COCO JSON, a Flickr8k file or a CSV (guessed from the name)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no captions file at {path}")
    if fmt == "auto":
        fmt = "coco" if path.suffix == ".json" else "csv" if path.suffix == ".csv" else "flickr"
        if path.name == "captions.txt" or path.name.endswith(".token.txt"):
            fmt = "flickr"
    reader = {"coco": read_coco, "flickr": read_flickr, "csv": read_csv}[fmt]
    samples = reader(path, images)
    if not samples:
        raise DataError(f"{path} holds no captions")
    return samples


def split_images(samples: Sequence[CaptionedImage], val_fraction: float = 0.15,
                 test_fraction: float = 0.15, by: Literal["session", "image"] = "session",
                 seed: int = 0) -> Split:
    """Shuffle whole groups (sessions, or images where there are none) into train/val/test."""
    groups: dict[str, list[CaptionedImage]] = {}
    for sample in samples:
        key = sample.session if by == "session" and sample.session else str(sample.path)
        groups.setdefault(key, []).append(sample)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_test = max(1, round(test_fraction * len(keys))) if test_fraction else 0
    n_val = max(1, round(val_fraction * len(keys))) if val_fraction else 0
    if n_test + n_val >= len(keys):
        raise DataError(f"{len(keys)} {by}s are too few to hold out {n_val} for validation "
                        f"and {n_test} for testing")
    parts = keys[:n_test], keys[n_test:n_test + n_val], keys[n_test + n_val:]
    test, val, train = ([s for k in part for s in groups[k]] for part in parts)
    return Split(train, val, test)


def _clip(ids: list[int], max_length: int, end: int) -> list[int]:
    """<start> + at most `max_length` words + <end>."""
    return ids if len(ids) <= max_length + 2 else [*ids[: max_length + 1], end]


class CaptionPairs(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Every (image input, caption ids) pair: the input is the image's row of `inputs`
    (cached feature maps, (N,C,h,w)) or, without them, the image file through `transform`."""

    def __init__(self, samples: Sequence[CaptionedImage], vocab: Vocab, inputs: torch.Tensor | None,
                 transform: Callable[[Image.Image], torch.Tensor] | None = None,
                 max_length: int = 20) -> None:
        if inputs is None and transform is None:
            raise ValueError("give cached inputs or a transform that turns an image into a tensor")
        self.samples, self.inputs, self.transform = samples, inputs, transform
        self.pairs = [(i, torch.tensor(_clip(vocab.encode(c), max_length, vocab.end)))
                      for i, s in enumerate(samples) for c in s.captions]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, caption = self.pairs[index]
        if self.inputs is not None:
            return self.inputs[image], caption
        assert self.transform is not None
        return self.transform(open_rgb(self.samples[image].path)), caption


def collate(batch: Sequence[tuple[torch.Tensor, torch.Tensor]]
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pairs -> inputs (B,...), captions (B,T) padded with <pad>=0, lengths (B,)."""
    inputs, captions = zip(*batch, strict=True)
    lengths = torch.tensor([len(c) for c in captions])
    return torch.stack(inputs), pad_sequence(list(captions), batch_first=True), lengths
