"""When a training run is due, what is still needed, and one run at a time (real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from PIL import Image

from services.labels import LabelStore
from services.redis_runtime import EmbeddedRedis
from services.settings import Settings, load_settings
from services.teach import job

AT = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    teach = {"min_new_labels": 8, "min_per_mood": 2, "min_tagged": 4, "hour": 3}
    return load_settings(redis={"url": redis_server.url}, data_dir=tmp_path / "data", environment="test",
                         rasa={"enabled": False}, teach=teach)


def label_days(settings: Settings, client: redis.Redis, tmp_path: Path, days: range, per_day: int) -> None:
    store = LabelStore.of(client, settings)
    moods = ["feed", "happy", "upset", "sleep"]
    for day in days:
        for n in range(per_day):
            frame = tmp_path / f"d{day}n{n}.jpg"
            Image.new("RGB", (16, 16), (10 * n, 20, 30)).save(frame)
            store.label(frame, f"d{day}n{n}", child="Mia", camera="cot", session=f"cot-2026-11-{day + 10}",
                        by="mum", at=AT, mood=moods[n % 4], tags=["in_cot"])


def test_a_run_is_due_with_enough_new_labels_at_the_set_hour(settings: Settings, client: redis.Redis,
                                                              tmp_path: Path) -> None:
    assert job.due(settings, client, AT) is None  # nothing labelled
    label_days(settings, client, tmp_path, range(1), per_day=8)
    assert job.status(settings, client)["needs"]["mood"][0].startswith("labels from at least two days")
    assert job.due(settings, client, AT) is None
    label_days(settings, client, tmp_path, range(1, 3), per_day=8)
    told = job.status(settings, client)
    assert told["needs"] == {"mood": [], "caption": []} and told["new_labels"] == 24
    assert job.due(settings, client, AT) == "24 new labels"
    assert job.due(settings, client, AT + timedelta(hours=2)) is None  # not the set hour
    client.set(job.LOCK, "a run", ex=60)
    assert job.due(settings, client, AT) is None  # one run at a time
    client.delete(job.LOCK)
    client.set(job.CHANGES_AT, LabelStore.of(client, settings).changes())
    assert job.due(settings, client, AT) is None  # nothing new since the last run


def test_a_second_run_while_one_goes_is_refused(settings: Settings, client: redis.Redis) -> None:
    client.set(job.LOCK, "a run", ex=60)
    with pytest.raises(job.Busy, match="already going"):
        job.run(settings, client, "asked twice")
    assert client.get(job.LAST) is None


def test_a_run_without_enough_labels_says_what_each_model_needs(settings: Settings, client: redis.Redis,
                                                                 tmp_path: Path) -> None:
    label_days(settings, client, tmp_path, range(1), per_day=4)
    outcome = job.run(settings, client, "test")
    for family in ("mood", "caption"):
        said = outcome["models"][family]
        assert said["trained"] is False and said["why"].startswith("not enough labels yet")
    assert client.exists(job.LOCK) == 0 and job.status(settings, client)["last_run"]["reason"] == "test"
