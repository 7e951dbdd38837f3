"""Backups and restore (services/backup/): a family's data backed up through the real
`cradle backup`, restored onto a fresh data folder and a fresh embedded Redis, and found
the same; a damaged archive refused with nothing changed; no restore under a running
stack; the schedule and keep-N on a real Redis."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import redis
from PIL import Image
from typer.testing import CliRunner

from models.registry import Registry
from models.vision import served_checkpoints
from services.alerts.state import AlertRecord, AlertStore
from services.auth import Role, UserStore
from services.backup import BackupError
from services.backup.archive import archives, create, read_manifest
from services.backup.restore import restore
from services.backup.schedule import LOCK, due, run_scheduled
from services.bus.events import MoodObserved
from services.bus.streams import Publisher
from services.cli.main import app
from services.delivery.webpush import PushKeys, PushSubscription, Subscriptions, generate_keys
from services.family import FamilyStore
from services.games.model import Game
from services.games.store import GameStore
from services.labels import LabelStore
from services.redis_runtime import EmbeddedRedis, connect
from services.settings import Settings, get_settings, load_settings
from services.stack import state_file
from services.tasks import celery_config
from services.timeline.store import Timeline

NOW = datetime.now(UTC).replace(microsecond=0)
ROOT_PEM = "-----BEGIN CERTIFICATE-----\nthe family's root\n-----END CERTIFICATE-----\n"
ENDPOINT = "https://push.example.net/send/abc123"


def home_settings(home: Path, redis_url: str | None) -> Settings:
    return load_settings(redis={"url": redis_url}, data_dir=home / "var", models={"dir": home / "var/models"},
                         environment="test", rasa={"enabled": False})


def cli(monkeypatch: pytest.MonkeyPatch, home: Path, redis_url: str | None, *args: str) -> str:
    """`cradle ARGS` in-process, from `home` as the working folder, as the family runs it."""
    monkeypatch.chdir(home)
    for name, value in (("CRADLE_DATA_DIR", str(home / "var")),
                        ("CRADLE_MODELS__DIR", str(home / "var/models")),
                        ("CRADLE_ENVIRONMENT", "test"), ("CRADLE_RASA__ENABLED", "false")):
        monkeypatch.setenv(name, value)
    if redis_url:
        monkeypatch.setenv("CRADLE_REDIS__URL", redis_url)
    else:
        monkeypatch.delenv("CRADLE_REDIS__URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), terminal_width=250)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class Family:
    """What a family's stack holds, as the tests filled it in."""

    token: str
    alert: AlertRecord
    mood: MoodObserved
    game: Game
    frame_bytes: bytes
    version: str
    vapid_public: str


def fill(settings: Settings, client: redis.Redis, home: Path) -> Family:
    _, token = UserStore(client).add("Anna", Role.parent)
    UserStore(client).add("Nana", Role.caregiver)
    family = FamilyStore(client, settings)
    family.add("Zoë", born=date(2025, 4, 1), pronoun="she", nicknames=["Zozo"])  # and the settings' Baby
    alert = AlertRecord(id="al-1", child="mia", kind="hazard", severity="urgent", reason="near the stairs",
                        raised_at=NOW - timedelta(minutes=5), state="raised", recipients=["*"])
    pipe = client.pipeline()
    AlertStore(client).create(alert, pipe)
    pipe.execute()
    mood = MoodObserved(frame_id="f1", camera="cot", child="mia", mood="happy", probabilities={"happy": 0.9},
                        model_version="demo", occurred_at=NOW - timedelta(minutes=2))
    Timeline(client).add(mood)
    Publisher(client, settings.bus).publish(mood)
    game = Game(id="peekaboo-plus", title="Peekaboo plus", age_months=(3, 12), places=["indoor"],
                energy="calm", minutes=5, skills=["social"], steps=["Hide your face.", "Show it again."],
                safety="Stay close to the baby.", added_by="Anna")
    GameStore(client, embedder=None).save([game], np.ones((1, 4), np.float32))  # type: ignore[arg-type]
    frame = home / "camera" / "f1.jpg"
    frame.parent.mkdir(parents=True)
    Image.new("RGB", (32, 24), (200, 120, 80)).save(frame, format="JPEG")
    LabelStore.of(client, settings).label(frame, "f1", child="mia", camera="cot", session="cot-2026-12-01",
                                         by="Anna", at=NOW, mood="happy", tags=["in_cot"])
    checkpoint = home / "trained.pt"
    checkpoint.write_bytes(b"the family's mood model")
    registry = Registry(settings.models_dir, "mood")
    version = registry.add(checkpoint, {"metrics": {"accuracy": 0.9}})
    registry.promote(version.name, "better on the held-out frames", by="Anna")
    key = base64.urlsafe_b64encode(os.urandom(65)).rstrip(b"=").decode()
    auth = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    subscription = PushSubscription(endpoint=ENDPOINT, keys=PushKeys(p256dh=key, auth=auth))
    Subscriptions(client).add("anna", subscription)
    vapid_public = generate_keys(*settings.delivery.key_files(settings.data_dir))
    (home / ".env").write_text("CRADLE_TIMELINE__RETENTION_DAYS=30\n")
    root = settings.https.root_certificate(settings.data_dir)  # as Caddy's tls internal leaves it
    root.parent.mkdir(parents=True)
    root.write_text(ROOT_PEM)
    (root.parent / "root.key").write_text("the authority's key")
    return Family(token, alert, mood, game, frame.read_bytes(), version.name, vapid_public)


def check_same(family: Family, settings: Settings, client: redis.Redis, home: Path) -> None:
    user = UserStore(client).verify(family.token)
    assert user is not None and user.name == "Anna"
    assert sorted(u.name for u in UserStore(client).all()) == ["Anna", "Nana"]
    assert [(c.name, c.born) for c in FamilyStore(client, settings).children()] == [
        ("Baby", None), ("Zoë", date(2025, 4, 1))]
    assert AlertStore(client).get("al-1") == family.alert
    assert Timeline(client).latest("mia", "mood.observed") == [family.mood]
    assert client.xlen(settings.bus.stream) == 1
    assert GameStore(client, embedder=None).get("peekaboo-plus") == family.game  # type: ignore[arg-type]
    label = LabelStore.of(client, settings).get("f1")
    assert label is not None and (label.mood, label.tags, label.by) == ("happy", ("in_cot",), "Anna")
    assert label.path.is_relative_to(settings.data_dir.resolve())
    assert label.path.read_bytes() == family.frame_bytes
    mood_model, _ = served_checkpoints(settings.models_dir)
    current = Registry(settings.models_dir, "mood").current()
    assert current is not None and current.name == family.version and mood_model == current.checkpoint
    assert mood_model.read_bytes() == b"the family's mood model"
    assert [s.endpoint for s in Subscriptions(client).of("anna").values()] == [ENDPOINT]
    assert settings.delivery.key_files(settings.data_dir)[1].read_text().strip() == family.vapid_public
    assert (home / ".env").read_text() == "CRADLE_TIMELINE__RETENTION_DAYS=30\n"
    root = settings.https.root_certificate(settings.data_dir)  # the phones' installed root holds
    assert root.read_text() == ROOT_PEM and (root.parent / "root.key").is_file()


@pytest.fixture
def backed_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Family, Path]]:
    """A family's running stack (its own embedded Redis) backed up with `cradle backup`."""
    home = tmp_path / "home"
    home.mkdir()
    with EmbeddedRedis(home / "var/redis") as server:
        client = connect(server.url)
        family = fill(home_settings(home, server.url), client, home)
        output = cli(monkeypatch, home, server.url, "backup")
        client.close()
    found = archives(home / "var/backups")
    assert len(found) == 1 and found[0].path.name in output.replace("\n", "")
    yield family, found[0].path


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_backup_restored_onto_a_fresh_stack_finds_the_same_family(
        backed_up: tuple[Family, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    family, archive = backed_up
    manifest = read_manifest(archive)
    assert manifest["redis"]["method"] == "bgsave"
    assert manifest["counts"] == {"users": 2, "children": 2, "alerts": 1, "games": 1, "labels": 1,
                                  "events": 1, "model_versions": 1}
    assert {"redis/dump.rdb", "labels/frames/cot-2026-12-01/f1.jpg", "registry/mood/current",
            f"registry/mood/{family.version}/model.pt", "keys/vapid-private.pem", "caddy/root.crt",
            "settings/env"} <= set(manifest["files"])
    assert not any(name.startswith("frames/") for name in manifest["files"])  # camera frames stay out
    listed = cli(monkeypatch, tmp_path / "home", None, "backup", "list")
    assert archive.name in listed
    assert "2 users, 2 children, 1 alerts, 1 games, 1 labels, 1 model versions" in listed

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    output = cli(monkeypatch, fresh, None, "restore", str(archive), "--yes")
    assert "2 users" in output and "restore-undo" not in output  # a fresh machine: nothing to keep aside
    settings = home_settings(fresh, None)
    assert not any(p.name.startswith(".restore-") for p in settings.data_dir.iterdir())
    with EmbeddedRedis(settings.data_dir / "redis") as server:
        client = connect(server.url)
        check_same(family, settings, client, fresh)
        UserStore(client).add("Mistake", Role.caregiver)  # written after the restore...
        client.close()

    again = cli(monkeypatch, fresh, None, "restore", str(archive), "--yes")
    undo = next((settings.data_dir).glob("restore-undo-*/cradle-backup-*.tar.gz"))
    assert str(undo) in again.replace("\n", "")
    assert read_manifest(undo)["counts"]["users"] == 3  # ...is in the undo archive
    with EmbeddedRedis(settings.data_dir / "redis") as server:
        client = connect(server.url)
        assert UserStore(client).get("mistake") is None
        client.close()


def test_a_changed_or_truncated_archive_is_refused_and_nothing_changes(
        backed_up: tuple[Family, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, archive = backed_up
    target = tmp_path / "target"
    target.mkdir()
    monkeypatch.chdir(target)
    settings = home_settings(target, None)
    (settings.data_dir / "labels").mkdir(parents=True)
    (settings.data_dir / "labels" / "kept.jpg").write_bytes(b"the family's frame")
    (settings.data_dir / "redis").mkdir()
    (settings.data_dir / "redis" / "appendonly.aof").write_bytes(b"the family's data")
    before = tree(target)

    changed = tmp_path / "changed.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(changed, "w:gz") as sink:
        for member in source.getmembers():
            body = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith("f1.jpg"):
                body = body[:-1] + bytes([body[-1] ^ 1])
            sink.addfile(member, io.BytesIO(body))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    garbage = tmp_path / "notes.tar.gz"
    garbage.write_text("not an archive")

    for bad, said in ((changed, "does not match its checksum"), (truncated, "truncated"),
                      (garbage, "not a Cradle backup"), (tmp_path / "nowhere.tar.gz", "no backup at")):
        with pytest.raises(BackupError, match=said):
            restore(settings, bad)
        assert tree(target) == before, bad


def test_restore_refuses_while_the_stack_runs(backed_up: tuple[Family, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _, archive = backed_up
    target = tmp_path / "running"
    settings = home_settings(target, None)
    state = state_file(settings)
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"pid": os.getpid(), "redis_url": "redis://127.0.0.1:1/0"}))
    before = tree(target)
    with pytest.raises(BackupError, match=f"Cradle is running.*pid {os.getpid()}.*stop it first"):
        restore(settings, archive)
    assert tree(target) == before
    monkeypatch.chdir(target)
    monkeypatch.setenv("CRADLE_DATA_DIR", str(target / "var"))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["restore", str(archive), "--yes"], terminal_width=250)
    get_settings.cache_clear()
    assert result.exit_code == 1 and "Cradle is running" in result.output


def test_a_snapshot_over_the_wire_restores_into_a_configured_redis(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with EmbeddedRedis(home / "var/redis") as server, EmbeddedRedis(tmp_path / "theirs") as theirs:
        client = connect(server.url)
        settings = home_settings(home, server.url)
        family = fill(settings, client, home)
        client.expire("cradle:alerts:al-1", 3600)
        monkeypatch.chdir(home)  # settings files are found in the working folder
        archive = create(settings, client, tmp_path / "backups", over_the_wire=True)
        client.close()
        assert read_manifest(archive)["redis"]["method"] == "replication"

        target = tmp_path / "theirs-home"
        target.mkdir()
        connect(theirs.url).set("left:over", "from before")
        monkeypatch.chdir(target)  # and restored into it
        done = restore(home_settings(target, theirs.url), archive)
        assert done.counts["users"] == 2 and done.undo is not None
        restored = connect(theirs.url)
        check_same(family, home_settings(target, theirs.url), restored, target)
        assert 0 < restored.ttl("cradle:alerts:al-1") <= 3600  # times to live come along
        assert restored.get("left:over") is None
        assert read_manifest(done.undo)["counts"]["users"] == 0
        restored.close()


def test_scheduled_backups_run_when_due_and_keep_the_newest(
        settings: Settings, client: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = celery_config(settings, "redis://127.0.0.1:1/0")
    assert config["beat_schedule"]["consider-backup"]["task"] == "workers.maintenance.backup"
    assert config["task_routes"]["workers.maintenance.*"] == {"queue": "training"}
    hourly = settings.model_copy(update={"backup": settings.backup.model_copy(
        update={"hour": None, "every_h": 1.0, "keep": 2})})
    UserStore(client).add("Anna", Role.parent)
    folder = hourly.backup.folder_in(hourly.data_dir)
    later = datetime.now(UTC) + timedelta(hours=2)
    made = [run_scheduled(hourly, client, now=later) for _ in range(3)]
    assert all(made) and len(set(made)) == 3
    kept = [a.path for a in archives(folder)]
    assert kept == [made[2], made[1]]  # the oldest deleted
    assert all(a.manifest and a.manifest["counts"]["users"] == 1 for a in archives(folder))
    assert run_scheduled(hourly, client) is None  # the newest is not an hour old
    client.set(LOCK, "elsewhere")
    assert run_scheduled(hourly, client, now=later) is None  # one already runs
    assert client.get(LOCK) == "elsewhere" and len(archives(folder)) == 2


def test_the_daily_backup_is_due_once_after_its_hour(settings: Settings) -> None:
    daily = settings.model_copy(update={
        "family": settings.family.model_copy(update={"timezone": "Europe/London"}),
        "backup": settings.backup.model_copy(update={"hour": 4})})
    at = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)  # London is on UTC in December
    assert due(daily, None, at)
    assert not due(daily, datetime(2026, 12, 1, 4, 5, tzinfo=UTC), at)  # today's four o'clock is to come
    assert due(daily, datetime(2026, 12, 1, 4, 5, tzinfo=UTC), at + timedelta(hours=1))
    assert not due(daily, at + timedelta(minutes=31), at + timedelta(hours=2))
    off = daily.model_copy(update={"backup": daily.backup.model_copy(update={"enabled": False})})
    assert not due(off, None, at)
