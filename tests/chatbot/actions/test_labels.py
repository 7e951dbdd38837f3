"""The labelled-frames store (services/labels.py) on a real Redis and a real folder, read
back by the mood trainer's own folder scanner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from PIL import Image

from models.images import DataError
from models.mood.data import scan_folder
from services.labels import LabelStore, find_frame, session_name

AT = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


def jpeg(path: Path, colour: tuple[int, int, int] = (200, 120, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), colour).save(path, format="JPEG")
    return path


@pytest.fixture
def store(client: redis.Redis, tmp_path: Path) -> LabelStore:
    return LabelStore(client, tmp_path / "data")


def test_a_correction_copies_the_frame_where_the_trainer_reads_it(store: LabelStore, tmp_path: Path,
                                                                  client: redis.Redis) -> None:
    frame = jpeg(tmp_path / "frames/cot/2026-11-20/140000.000-f1.jpg")
    session = session_name("cot", "2026-11-20")
    path = store.correct(frame, "f1", "feed", "upset", "mum", AT, session)

    assert path == tmp_path / "data/labels/feed/cot-2026-11-20/f1.jpg"
    assert path.read_bytes() == frame.read_bytes() and frame.exists()  # a copy: the frame stays
    assert client.hgetall("cradle:labels:f1") == {
        "frame_id": "f1", "label": "feed", "predicted": "upset", "by": "mum",
        "at": AT.isoformat(), "session": "cot-2026-11-20", "path": "feed/cot-2026-11-20/f1.jpg",
    }
    (sample,) = scan_folder(tmp_path / "data/labels")
    assert (sample.path, sample.label, sample.session) == (path, "feed", "cot-2026-11-20")


def test_labelling_a_frame_again_moves_it(store: LabelStore, tmp_path: Path) -> None:
    frame = jpeg(tmp_path / "frames/f2.jpg")
    first = store.correct(frame, "f2", "feed", "upset", "mum", AT, "cot-2026-11-20")
    second = store.correct(frame, "f2", "happy", "upset", "dad", AT + timedelta(minutes=1), "cot-2026-11-20")
    assert not first.exists() and second.exists()
    assert not first.parent.exists()  # the emptied session folder goes too
    label = store.get("f2")
    assert label is not None and (label.label, label.by, label.path) == ("happy", "dad", second)
    assert [s.label for s in scan_folder(tmp_path / "data/labels")] == ["happy"]
    store.correct(frame, "f2", "happy", "upset", "dad", AT, "cot-2026-11-20")  # same again: no change
    assert second.exists() and len(store.recent()) == 1


def test_recent_lists_newest_first(store: LabelStore, tmp_path: Path) -> None:
    for i in range(3):
        store.correct(jpeg(tmp_path / f"f{i}.jpg"), f"f{i}", "sleep", "happy", "mum",
                      AT + timedelta(minutes=i), "cot-2026-11-20")
    assert [label.frame_id for label in store.recent()] == ["f2", "f1", "f0"]
    assert [label.frame_id for label in store.recent(limit=2)] == ["f2", "f1"]
    assert store.recent()[0].at == AT + timedelta(minutes=2)


def test_a_missing_or_corrupt_frame_is_a_clear_error_and_writes_nothing(store: LabelStore, tmp_path: Path,
                                                                        client: redis.Redis) -> None:
    with pytest.raises(DataError, match="no longer at"):
        store.correct(tmp_path / "gone.jpg", "f3", "feed", "upset", "mum", AT, "s")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DataError, match="cannot decode"):
        store.correct(broken, "f4", "feed", "upset", "mum", AT, "s")
    assert not (tmp_path / "data/labels").exists() or not any((tmp_path / "data/labels").rglob("*.jpg"))
    assert client.keys("cradle:labels:*") == []


@pytest.mark.parametrize(("frame_id", "label"), [("../f5", "feed"), ("f5", "../../etc"), ("f5", "Feed Me")])
def test_names_that_cannot_be_folders_are_refused(store: LabelStore, tmp_path: Path, frame_id: str,
                                                  label: str) -> None:
    with pytest.raises(DataError):
        store.correct(jpeg(tmp_path / "f5.jpg"), frame_id, label, "upset", "mum", AT, "s")


def test_a_session_name_cannot_leave_the_label_folder(store: LabelStore, tmp_path: Path) -> None:
    path = store.correct(jpeg(tmp_path / "f6.jpg"), "f6", "feed", "upset", "mum", AT, "../../escape")
    assert path.is_relative_to(tmp_path / "data/labels/feed")


def test_find_frame_by_event_path_or_by_camera_naming(tmp_path: Path) -> None:
    root = tmp_path / "frames"
    frame = jpeg(root / "cot/2026-11-20/140000.000-f7.jpg")
    assert find_frame(root, "f7", "cot/2026-11-20/140000.000-f7.jpg") == frame
    assert find_frame(root, "f7", None, "cot") == frame
    assert find_frame(root, "f7", "missing.jpg", "cot") == frame  # the event's path is gone: naming
    assert find_frame(root, "f7", None, "hall") is None
    assert find_frame(root, "f8") is None
    jpeg(tmp_path / "outside-f9.jpg")
    assert find_frame(root, "f9", "../outside-f9.jpg") is None
    assert find_frame(root, "*", None) is None
