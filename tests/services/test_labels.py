"""The labels store (services/labels.py) on a real Redis and a real folder: moods and
scene tags, changed or removed, and a held-out split that never moves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from models.images import DataError
from services.bus.events import MoodObserved
from services.labels import KEEP, LabelStore, session_name

AT = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
TAGS = ("in_cot", "on_floor", "near_stairs", "climbing")


def jpeg(path: Path, colour: tuple[int, int, int] = (200, 120, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), colour).save(path, format="JPEG")
    return path


@pytest.fixture
def store(client: redis.Redis, tmp_path: Path) -> LabelStore:
    return LabelStore(client, tmp_path / "data", TAGS, held_out_fraction=0.25)


def give(store: LabelStore, tmp_path: Path, frame_id: str, session: str = "cot-2026-11-20", **said: object):  # type: ignore[no-untyped-def]
    frame = tmp_path / "frames" / f"{frame_id}.jpg"
    if not frame.exists():
        jpeg(frame)
    by = str(said.pop("by", "mum"))
    return store.label(frame, frame_id, child="Mia", camera="cot", session=session, by=by, at=AT,
                       captured_at=AT - timedelta(minutes=1), predicted="upset", **said)  # type: ignore[arg-type]


def test_a_label_keeps_a_copy_with_its_mood_tags_and_who_gave_it(store: LabelStore, tmp_path: Path) -> None:
    label = give(store, tmp_path, "f1", mood="feed", tags=["in_cot", "in_cot"])
    assert label is not None
    assert (label.mood, label.tags, label.by, label.predicted) == ("feed", ("in_cot",), "mum", "upset")
    assert label.path == tmp_path / "data/labels/frames/cot-2026-11-20/f1.jpg"
    assert label.path.read_bytes() == (tmp_path / "frames/f1.jpg").read_bytes()
    assert (tmp_path / "frames/f1.jpg").exists()  # a copy: the camera's frame stays
    assert store.get("f1") == label and store.recent() == [label]


def test_a_field_left_out_stays_and_an_emptied_label_is_gone(store: LabelStore, tmp_path: Path) -> None:
    give(store, tmp_path, "f2", mood="happy")
    changed = give(store, tmp_path, "f2", tags=["on_floor", "near_stairs"], by="dad")
    assert changed is not None
    assert (changed.mood, changed.tags, changed.by) == ("happy", ("on_floor", "near_stairs"), "dad")
    moodless = give(store, tmp_path, "f2", mood=None, tags=KEEP)
    assert moodless is not None and moodless.mood is None and moodless.tags == ("on_floor", "near_stairs")
    before = store.changes()
    assert give(store, tmp_path, "f2", tags=[]) is None  # nothing left: no label
    assert store.get("f2") is None and not moodless.path.exists() and store.changes() == before + 1
    assert store.remove("f2") is False


def test_remove_forgets_the_label_and_its_copy(store: LabelStore, tmp_path: Path,
                                               client: redis.Redis) -> None:
    label = give(store, tmp_path, "f3", mood="sleep")
    assert label is not None and store.remove("f3") and not label.path.exists()
    assert client.keys("cradle:labels:f3") == [] and store.all() == []


def test_bad_moods_tags_ids_and_frames_are_clear_errors_that_write_nothing(store: LabelStore, tmp_path: Path,
                                                                          client: redis.Redis) -> None:
    with pytest.raises(DataError, match="not one of"):
        give(store, tmp_path, "f4", mood="grumpy")
    with pytest.raises(DataError, match="scene tag 'on_the_moon'"):
        give(store, tmp_path, "f4", tags=["on_the_moon"])
    with pytest.raises(DataError, match="not a Cradle frame id"):
        give(store, tmp_path, "../f4", mood="feed")
    with pytest.raises(DataError, match="no longer at"):
        store.label(tmp_path / "gone.jpg", "f5", child="Mia", camera="cot", session="s", by="mum", at=AT,
                    mood="feed")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DataError, match="cannot decode"):
        store.label(broken, "f6", child="Mia", camera="cot", session="s", by="mum", at=AT, mood="feed")
    assert client.keys("cradle:labels:f*") == [] and not any((tmp_path / "data").rglob("*.jpg"))


def test_a_session_name_cannot_leave_the_labels_folder(store: LabelStore, tmp_path: Path) -> None:
    label = give(store, tmp_path, "f7", session="../../escape", mood="feed")
    assert label is not None and label.path.is_relative_to(tmp_path / "data/labels/frames")


def test_the_labels_of_the_old_layout_still_read(store: LabelStore, client: redis.Redis,
                                                 tmp_path: Path) -> None:
    client.hset("cradle:labels:f8", mapping={
        "frame_id": "f8", "label": "feed", "predicted": "upset", "by": "mum", "at": AT.isoformat(),
        "session": "cot-2026-11-20", "path": "feed/cot-2026-11-20/f8.jpg"})
    client.zadd("cradle:labels:index", {"f8": AT.timestamp()})
    (old,) = store.all()
    assert (old.mood, old.tags, old.path) == ("feed", (), tmp_path / "data/labels/feed/cot-2026-11-20/f8.jpg")


def test_labelling_an_observed_frame_names_its_camera_day(store: LabelStore, tmp_path: Path) -> None:
    root = tmp_path / "frames"
    jpeg(root / "cot/2026-11-20/140000.000-f9.jpg")
    seen = MoodObserved(frame_id="f9", camera="cot", child="Mia", mood="upset", probabilities={"upset": 1.0},
                        model_version="t", occurred_at=AT)
    label = store.label_observed(root, seen, by="mum", at=AT, timezone=UTC, tags=["climbing"])
    assert label is not None
    assert (label.session, label.predicted, label.tags) == (session_name("cot", "2026-11-20"), "upset",
                                                            ("climbing",))
    gone = seen.model_copy(update={"frame_id": "f10"})
    with pytest.raises(FileNotFoundError, match="gone"):
        store.label_observed(root, gone, by="mum", at=AT, timezone=UTC, mood="feed")


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30)), min_size=1, max_size=60))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_day_once_on_a_side_stays_there_and_two_days_fill_both_sides(
        client: redis.Redis, tmp_path_factory: pytest.TempPathFactory, labels: list[tuple[int, int]]) -> None:
    client.flushdb()
    folder = tmp_path_factory.mktemp("split")
    store = LabelStore(client, folder / "data", TAGS, held_out_fraction=0.25)
    seen: dict[str, str] = {}
    rng = random.Random(len(labels))
    for day, frame in labels:
        session = f"cot-2026-11-{day + 1:02d}"
        give(store, folder, f"d{day}f{frame}", session=session, mood=rng.choice(["feed", "happy"]))
        if rng.random() < 0.2:
            store.remove(f"d{day}f{rng.randint(0, 30)}")
        for name, side in store.sides().items():
            assert seen.setdefault(name, side) == side  # never moves
    counts = store.counts()
    if counts["days"] >= 2:
        assert counts["held_out"]["days"] >= 1 and counts["train"]["days"] >= 1
    assert store.sides().get(f"cot-2026-11-{labels[0][0] + 1:02d}") == "train"  # the first day trains

