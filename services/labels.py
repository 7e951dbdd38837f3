"""The feedback loop: frames a caregiver labelled, kept where the mood trainer reads them.

When someone says "she was hungry, not upset", each frame the classifier got wrong is
copied to `<data_dir>/labels/<label>/<session>/<frame_id>.jpg`, the folder-per-class
layout `cradle mood train --data <data_dir>/labels` reads (models/mood/data.py
`scan_folder`; the session folder keeps one day's near-identical frames on one side of
the train/validation split). Labelling a frame again with another label moves the file,
so a frame is never two classes at once.

Redis keeps a record per frame, `cradle:labels:<frame_id>` (label, predicted, by, at,
session, path relative to the labels folder), and `cradle:labels:index`, the frame ids
scored by when they were labelled, for "recent corrections" screens. The chatbot's
`action_correct_mood` writes here; the web app's labelling screen will too.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import redis

from models.images import DataError, open_rgb
from services.bus.events import MoodObserved

PREFIX = "cradle:labels"
INDEX = f"{PREFIX}:index"
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_FRAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Label:
    """One labelled frame; `path` is where its copy lies now."""

    frame_id: str
    label: str
    predicted: str  # what the classifier said ("" when unknown)
    by: str  # the caregiver who labelled it
    at: datetime
    session: str
    path: Path


def session_name(camera: str, day: str) -> str:
    """A session folder name from a camera and a local date: "nursery-2024-05-01"."""
    return _folder_name(f"{camera}-{day}")


def _folder_name(name: str) -> str:
    return _UNSAFE.sub("-", name).strip("-.") or "session"


def find_frame(frames_dir: Path, frame_id: str, relative: str | None = None,
               camera: str | None = None) -> Path | None:
    """Where a frame's JPEG lies under `frames_dir`: at `relative` (a `frame.captured`
    event's path) when given and present, else by the camera's file naming
    (`<camera>/<day>/<time>-<frame_id>.jpg`). None when it is gone (pruned) or the
    name would lead outside the frames folder."""
    root = frames_dir.resolve()
    if not _FRAME_ID.match(frame_id):
        return None
    if relative:  # the event's own path: no folder scan when the file is where it says
        path = (root / relative).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    if not root.is_dir():
        return None
    pattern = f"{glob_escape(camera)}/*/*-{frame_id}.jpg" if camera else f"*/*/*-{frame_id}.jpg"
    for candidate in sorted(root.glob(pattern)):
        path = candidate.resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


class LabelStore:
    """Labelled frames on disk under `<data_dir>/labels`, recorded in Redis."""

    def __init__(self, client: redis.Redis, data_dir: Path) -> None:
        self.client = client
        self.root = (Path(data_dir) / "labels").resolve()

    def correct(self, frame_path: Path, frame_id: str, label: str, predicted: str, by: str,
                at: datetime, session: str) -> Path:
        """Keep `frame_path` as an example of `label`; returns where the copy lies.

        Raises DataError when the frame is missing or not a readable image, or when the
        label, frame id or session cannot name a folder. Labelling the same frame again
        replaces the earlier label (and moves the file)."""
        if not _LABEL.match(label):
            raise DataError(f"label {label!r} cannot name a class folder: use lower-case letters")
        if not _FRAME_ID.match(frame_id):
            raise DataError(f"frame id {frame_id!r} is not a Cradle frame id")
        if at.tzinfo is None:
            raise DataError("the time of a label must be timezone-aware")
        session = _folder_name(session)
        frame_path = Path(frame_path)
        if not frame_path.is_file():
            raise DataError(f"frame {frame_id} is no longer at {frame_path} (old frames are pruned)")
        open_rgb(frame_path)  # a corrupt JPEG must not reach the training folder

        relative = Path(label) / session / f"{frame_id}.jpg"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_suffix(".part")
        shutil.copyfile(frame_path, scratch)
        scratch.replace(target)  # the trainer never sees half a file

        key = _key(frame_id)
        before = self.client.hget(key, "path")
        if before is not None and Path(str(before)) != relative:
            (self.root / str(before)).unlink(missing_ok=True)
            _remove_empty(self.root / str(before), self.root)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={
            "frame_id": frame_id, "label": label, "predicted": predicted, "by": by,
            "at": at.astimezone(UTC).isoformat(), "session": session, "path": relative.as_posix(),
        })
        pipe.zadd(INDEX, {frame_id: at.timestamp()})
        pipe.execute()
        return target

    def correct_observed(self, frames_dir: Path, observed: MoodObserved, relative: str | None, label: str,
                         by: str, at: datetime, timezone: tzinfo) -> Path | None:
        """Keep the frame the classifier saw in `observed` as an example of `label`, in the
        session folder of its camera and local day; None when its picture is gone (pruned).
        `relative` is its `frame.captured` path when known. Raises DataError as `correct`."""
        path = find_frame(frames_dir, observed.frame_id, relative, observed.camera)
        if path is None:
            return None
        day = observed.occurred_at.astimezone(timezone).date().isoformat()
        return self.correct(path, observed.frame_id, label, observed.mood, by, at,
                            session_name(observed.camera, day))

    def get(self, frame_id: str) -> Label | None:
        raw = self.client.hgetall(_key(frame_id))
        return self._label(raw) if raw else None

    def recent(self, limit: int = 50) -> list[Label]:
        """The latest labels, newest first."""
        ids = self.client.zrevrange(INDEX, 0, max(limit, 1) - 1)
        pipe = self.client.pipeline(transaction=False)
        for frame_id in ids:
            pipe.hgetall(_key(str(frame_id)))  # a decode_responses client: ids are str
        return [self._label(raw) for raw in pipe.execute() if raw]

    def _label(self, stored: dict[Any, Any]) -> Label:
        raw = {str(k): str(v) for k, v in stored.items()}
        try:
            return Label(
                raw["frame_id"], raw["label"], raw.get("predicted", ""), raw.get("by", ""),
                datetime.fromisoformat(raw["at"]), raw.get("session", ""), self.root / raw["path"],
            )
        except (KeyError, ValueError) as exc:
            raise DataError(f"label record {raw.get('frame_id', '?')} in Redis is malformed: {exc}") from exc


def _key(frame_id: str) -> str:
    return f"{PREFIX}:{frame_id}"


def _remove_empty(path: Path, root: Path) -> None:
    """Remove the now-empty session folder a moved frame left behind (never `root`)."""
    folder = path.parent
    if folder != root and folder.is_relative_to(root) and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
