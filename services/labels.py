"""The labels store: what caregivers said a frame shows, kept for the next training run.

One store for the gateway's Teach routes and the chatbot's corrections. A label is a
frame's mood (feed, happy, upset, sleep) and its scene tags (several at once: on the
floor and near the stairs; the list is the `teach.tags` setting), with who gave it and
when. Labelling a frame again changes what was said (a field not given stays as it
was); a frame left with neither a mood nor a tag is no longer labelled. A frame's
picture is found in the frame store (services/camera/store.py) by the reference its
`mood.observed` carries, and copied here.

    <data_dir>/labels/frames/<session>/<frame_id>.jpg   the frame's copy (pruning spares it)
    cradle:labels:<frame_id>                            the label (hash)
    cradle:labels:index                                 frame ids by when labelled
    cradle:labels:split                                 session -> train | held_out
    cradle:labels:sessions                              session -> labelled frames
    cradle:labels:changes                               labels given, changed or removed

A session is a camera's local day. The first time a session is labelled it is kept
aside (held out) when the held-out share of labelled frames is below
`held_out_fraction`, else it is trained on; the choice is never revisited, so a frame
that was ever held out is never trained on, and the frames of one minute (one day)
never sit on both sides.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

import redis

from models.images import DataError, open_rgb
from services.bus.events import MOODS, MoodObserved
from services.camera.store import FRAME_ID, FrameStore
from services.settings import Settings

PREFIX = "cradle:labels"
INDEX = f"{PREFIX}:index"
SPLIT = f"{PREFIX}:split"
SESSIONS = f"{PREFIX}:sessions"
CHANGES = f"{PREFIX}:changes"
_FRAME_ID = re.compile(FRAME_ID)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
Side = Literal["train", "held_out"]


class Keep:
    """A field a new label leaves as it was."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()
MoodSaid = str | Keep | None  # a mood, None to clear it, KEEP to leave it
TagsSaid = list[str] | tuple[str, ...] | Keep


@dataclass(frozen=True)
class Label:
    """What was said about one frame; `path` is where its copy lies."""

    frame_id: str
    child: str
    camera: str
    mood: str | None
    tags: tuple[str, ...]
    predicted: str  # what the mood classifier had said ("" when unknown)
    by: str  # the caregiver who labelled it last
    at: datetime  # when
    session: str  # the camera's local day: the unit held out whole
    captured_at: datetime | None
    path: Path


def session_name(camera: str, day: str) -> str:
    """A session folder name from a camera and a local date: "nursery-2024-05-01"."""
    return _folder_name(f"{camera}-{day}")


def _folder_name(name: str) -> str:
    return _UNSAFE.sub("-", name).strip("-.") or "session"


class LabelStore:
    """Labelled frames on disk under `<data_dir>/labels`, recorded in Redis."""

    def __init__(self, client: redis.Redis, data_dir: Path, tags: list[str] | tuple[str, ...] = (),
                 held_out_fraction: float = 0.25) -> None:
        self.client = client
        self.root = (Path(data_dir) / "labels").resolve()
        self.tags = tuple(tags)  # the scene tags a label may give (empty: any snake_case word)
        self.held_out_fraction = held_out_fraction

    @classmethod
    def of(cls, client: redis.Redis, settings: Settings) -> LabelStore:
        """The family's store, with the tags and the held-out share its settings name."""
        teach = settings.teach
        return cls(client, settings.data_dir, teach.tag_names, teach.held_out_fraction)

    def label(self, frame_path: Path, frame_id: str, *, child: str, camera: str, session: str, by: str,
              at: datetime, captured_at: datetime | None = None, predicted: str = "",
              mood: MoodSaid = KEEP, tags: TagsSaid = KEEP) -> Label | None:
        """Say what a frame shows; returns the label, or None when nothing is left of it
        (no mood and no tag). Raises DataError when the frame is missing or unreadable,
        or a mood, tag, id or session is not one Cradle knows."""
        if not _FRAME_ID.match(frame_id):
            raise DataError(f"frame id {frame_id!r} is not a Cradle frame id")
        if at.tzinfo is None:
            raise DataError("the time of a label must be timezone-aware")
        before = self.get(frame_id)
        new_mood = (before.mood if before else None) if isinstance(mood, Keep) else mood
        new_tags = (before.tags if before else ()) if isinstance(tags, Keep) else self._tags(tags)
        if new_mood is not None and new_mood not in MOODS:
            raise DataError(f"mood {new_mood!r} is not one of {', '.join(MOODS)}")
        if new_mood is None and not new_tags:
            self.remove(frame_id)
            return None
        session = before.session if before else _folder_name(session)
        relative = Path("frames") / session / f"{frame_id}.jpg"
        if before is None or not before.path.is_file():
            self._copy(Path(frame_path), frame_id, self.root / relative)
        else:
            relative = before.path.relative_to(self.root)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(_key(frame_id), mapping={
            "frame_id": frame_id, "child": child, "camera": camera, "mood": new_mood or "",
            "tags": json.dumps(list(new_tags)),
            "predicted": predicted or (before.predicted if before else ""),
            "by": by, "at": at.astimezone(UTC).isoformat(), "session": session,
            "captured_at": captured_at.astimezone(UTC).isoformat() if captured_at else "",
            "path": relative.as_posix(),
        })
        pipe.hdel(_key(frame_id), "label")  # the layout before scene tags
        pipe.zadd(INDEX, {frame_id: at.timestamp()})
        if before is None:
            pipe.hincrby(SESSIONS, session, 1)
        pipe.incr(CHANGES)
        pipe.execute()
        if before is None:
            self._assign(session)
        label = self.get(frame_id)
        assert label is not None
        return label

    def label_observed(self, frames_dir: Path, observed: MoodObserved, *, by: str, at: datetime,
                       timezone: tzinfo, mood: MoodSaid = KEEP, tags: TagsSaid = KEEP) -> Label | None:
        """Label the frame the classifier saw in `observed` (its picture under `frames_dir`,
        where its reference says), in the session of its camera and local day. Raises
        FileNotFoundError when its picture is gone (pruned), and DataError as `label`;
        returns None when the label was emptied."""
        path = FrameStore(frames_dir).find(observed.frame_id, observed.path, observed.camera)
        known = self.get(observed.frame_id)
        if path is None and (known is None or not known.path.is_file()):
            raise FileNotFoundError(f"frame {observed.frame_id}'s picture is gone (old frames are pruned)")
        day = observed.occurred_at.astimezone(timezone).date().isoformat()
        source = path if path is not None else known.path  # type: ignore[union-attr]
        return self.label(source, observed.frame_id, child=observed.child, camera=observed.camera,
                          session=session_name(observed.camera, day), by=by, at=at,
                          captured_at=observed.occurred_at, predicted=observed.mood, mood=mood, tags=tags)

    def remove(self, frame_id: str) -> bool:
        """Forget a frame's label and its copy; whether there was one."""
        before = self.get(frame_id)
        if before is None:
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(_key(frame_id))
        pipe.zrem(INDEX, frame_id)
        pipe.hincrby(SESSIONS, before.session, -1)
        pipe.incr(CHANGES)
        pipe.execute()
        if before.path.is_relative_to(self.root):
            before.path.unlink(missing_ok=True)
            _remove_empty(before.path, self.root)
        return True

    def get(self, frame_id: str) -> Label | None:
        if not _FRAME_ID.match(frame_id):
            return None
        raw = self.client.hgetall(_key(frame_id))
        return self._label(raw) if raw else None

    def recent(self, limit: int = 50) -> list[Label]:
        """The latest labels, newest first."""
        return self._many(self.client.zrevrange(INDEX, 0, max(limit, 1) - 1))

    def all(self) -> list[Label]:
        """Every label, oldest first."""
        return self._many(self.client.zrange(INDEX, 0, -1))

    def side(self, session: str) -> Side:
        found = self.client.hget(SPLIT, session)
        return "held_out" if found is not None and str(found) == "held_out" else "train"

    def sides(self) -> dict[str, Side]:
        return {str(k): "held_out" if str(v) == "held_out" else "train"
                for k, v in self.client.hgetall(SPLIT).items()}

    def changes(self) -> int:
        """A counter that moves on every label given, changed or removed."""
        return int(self.client.get(CHANGES) or 0)

    def counts(self, labels: list[Label] | None = None) -> dict[str, Any]:
        """Labels per mood and per tag, on each side of the split."""
        labels = self.all() if labels is None else labels
        sides = self.sides()
        found: dict[str, Any] = {"frames": len(labels), "days": len({lab.session for lab in labels})}
        for side in ("train", "held_out"):
            mine = [lab for lab in labels if sides.get(lab.session, "train") == side]
            found[side] = {
                "frames": len(mine), "days": len({lab.session for lab in mine}),
                "moods": {m: sum(lab.mood == m for lab in mine) for m in MOODS},
                "tags": {t: sum(t in lab.tags for lab in mine) for t in self.tags or
                         sorted({t for lab in mine for t in lab.tags})},
            }
        return found

    @staticmethod
    def fingerprint(labels: list[Label]) -> str:
        """Changes whenever any label trained on does."""
        digest = hashlib.sha256()
        for lab in sorted(labels, key=lambda x: x.frame_id):
            digest.update(f"{lab.frame_id}|{lab.mood}|{','.join(lab.tags)}\n".encode())
        return digest.hexdigest()[:16]

    def _assign(self, session: str) -> None:
        """Put a newly labelled session on a side, once and for good."""
        if self.client.hexists(SPLIT, session):
            return
        counts = {str(k): int(v) for k, v in self.client.hgetall(SESSIONS).items()}
        sides = self.sides()
        total = sum(n for s, n in counts.items() if s != session)
        held = sum(n for s, n in counts.items() if sides.get(s) == "held_out")
        wanted = self.held_out_fraction * (total + counts.get(session, 0))
        side = "held_out" if total > 0 and held < wanted else "train"
        self.client.hsetnx(SPLIT, session, side)

    def _tags(self, tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(t.strip() for t in tags))
        for tag in cleaned:
            if self.tags and tag not in self.tags:
                raise DataError(f"scene tag {tag!r} is not one of {', '.join(self.tags)}")
            if not re.match(r"^[a-z][a-z0-9_]{0,39}$", tag):
                raise DataError(f"scene tag {tag!r} is not a tag name")
        return cleaned

    def _copy(self, frame_path: Path, frame_id: str, target: Path) -> None:
        if not frame_path.is_file():
            raise DataError(f"frame {frame_id} is no longer at {frame_path} (old frames are pruned)")
        open_rgb(frame_path)  # a corrupt JPEG must not reach the training folder
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_suffix(".part")
        shutil.copyfile(frame_path, scratch)
        scratch.replace(target)  # the trainer never sees half a file

    def _many(self, ids: Any) -> list[Label]:
        pipe = self.client.pipeline(transaction=False)
        for frame_id in ids:
            pipe.hgetall(_key(str(frame_id)))  # a decode_responses client: ids are str
        return [self._label(raw) for raw in pipe.execute() if raw]

    def _label(self, stored: dict[Any, Any]) -> Label:
        raw = {str(k): str(v) for k, v in stored.items()}
        try:
            mood = raw.get("mood", raw.get("label", "")) or None  # "label": a mood, before scene tags
            return Label(
                raw["frame_id"], raw.get("child", ""), raw.get("camera", ""), mood,
                tuple(json.loads(raw.get("tags") or "[]")), raw.get("predicted", ""), raw.get("by", ""),
                datetime.fromisoformat(raw["at"]), raw.get("session", ""),
                datetime.fromisoformat(raw["captured_at"]) if raw.get("captured_at") else None,
                self.root / raw["path"],
            )
        except (KeyError, ValueError) as exc:
            raise DataError(f"label record {raw.get('frame_id', '?')} in Redis is malformed: {exc}") from exc


def _key(frame_id: str) -> str:
    return f"{PREFIX}:{frame_id}"


def _remove_empty(path: Path, root: Path) -> None:
    """Remove the now-empty session folder a removed frame left behind (never `root`)."""
    folder = path.parent
    if folder != root and folder.is_relative_to(root) and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
