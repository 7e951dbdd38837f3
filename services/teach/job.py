"""One retraining run, and the facts about teaching that the app and the chatbot tell.

    cradle:training:lock       held by the run in progress (refreshed while it runs)
    cradle:training:progress   what it is doing now (hash)
    cradle:training:last       the last finished run: each model's verdict (JSON)
    cradle:training:changes    the labels store's change counter when the last run began

A run needs the labels of at least two days (one is held out whole) and, per model,
enough of them (`teach.min_per_mood`, `teach.min_tagged`); what is still missing is
said in `status()["needs"]`. It trains a mood classifier and a captioner with a scene
head (models/teach.py), scores each candidate and the serving model on the same held-out
frames, and promotes the candidate only when the gate allows; either way the candidate
goes into the registry with its scores and the reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from rich.console import Console

from models.caption.safety import DEFAULT_RULES, load_rules
from models.registry import Registry
from models.teach import (
    Gate,
    Scores,
    TaughtFrame,
    TeachConfig,
    as_dict,
    confusion_picture,
    judge,
    score_mood,
    score_scenes,
    train_caption,
    train_mood,
)
from models.vision import resolve_device, served_checkpoints
from services import tasks
from services.bus.events import ModelPromoted
from services.bus.streams import Publisher
from services.family import FamilyStore
from services.labels import Label, LabelStore
from services.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "cradle:training"
LOCK, PROGRESS, LAST, CHANGES_AT = (f"{PREFIX}:lock", f"{PREFIX}:progress", f"{PREFIX}:last",
                                    f"{PREFIX}:changes")
LOCK_TTL_S = 90  # a run that died stops blocking others this long after its last heartbeat


class Busy(RuntimeError):
    """Another training run holds the lock."""


def teach_config(settings: Settings) -> TeachConfig:
    t = settings.teach
    return TeachConfig(mood_epochs=t.mood_epochs, mood_finetune_epochs=t.mood_finetune_epochs,
                       augment=t.augment, caption_epochs=t.caption_epochs,
                       device=resolve_device(settings.models.device))


def gate_of(settings: Settings) -> Gate:
    t = settings.teach
    return Gate(t.margin, t.mood_accuracy_floor, t.mood_recall_floor, t.hazard_recall_floor,
                t.hazard_precision_floor)


def taught(labels: list[Label], store: LabelStore) -> tuple[list[TaughtFrame], list[TaughtFrame]]:
    """The labels as training frames: (training side, held-out side)."""
    sides = store.sides()
    frames = {"train": list[TaughtFrame](), "held_out": list[TaughtFrame]()}
    for label in labels:
        if label.path.is_file():
            frames[sides.get(label.session, "train")].append(TaughtFrame(
                label.path, label.mood, label.tags, label.session, label.captured_at or label.at))
    return frames["train"], frames["held_out"]


def needs(counts: dict[str, Any], settings: Settings) -> dict[str, list[str]]:
    """What is missing before each model can be trained, in words (empty: ready)."""
    t, train, held = settings.teach, counts["train"], counts["held_out"]
    missing: dict[str, list[str]] = {"mood": [], "caption": []}
    if held["days"] == 0 or train["days"] == 0:
        for family in missing:
            missing[family].append("labels from at least two days (one day is kept aside to test on)")
    short = {m: t.min_per_mood - n for m, n in train["moods"].items() if n < t.min_per_mood}
    if short:
        missing["mood"].append("more moods: " + ", ".join(f"{n} {m}" for m, n in short.items()))
    tagged = counts.get("train_tagged", 0)
    if tagged < t.min_tagged:
        missing["caption"].append(f"{t.min_tagged - tagged} more pictures with scene tags")
    return missing


def counts_with_tagged(store: LabelStore, labels: list[Label] | None = None) -> dict[str, Any]:
    labels = store.all() if labels is None else labels
    counts = store.counts(labels)
    sides = store.sides()
    tagged = Counter(sides.get(lab.session, "train") for lab in labels if lab.tags)
    counts["train_tagged"], counts["held_out_tagged"] = tagged["train"], tagged["held_out"]
    return counts


@contextlib.contextmanager
def _locked(client: redis.Redis) -> Iterator[None]:
    token = secrets.token_hex(8)
    if not client.set(LOCK, token, nx=True, ex=LOCK_TTL_S):
        raise Busy("a training run is already going")
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(LOCK_TTL_S / 3):
            if client.get(LOCK) == token:
                client.expire(LOCK, LOCK_TTL_S)

    beat = threading.Thread(target=heartbeat, name="training-lock", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        if client.get(LOCK) == token:
            client.delete(LOCK)


def _progress(client: redis.Redis, state: str, step: str, done: int, total: int) -> None:
    client.hset(PROGRESS, mapping={"state": state, "step": step, "done": done, "total": total,
                                   "at": datetime.now(UTC).isoformat()})


def run(settings: Settings, client: redis.Redis, reason: str, *, console: Console | None = None,
        on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """One training run (raises Busy when one is going); returns what happened, as stored
    in cradle:training:last."""
    with _locked(client):
        started = time.perf_counter()
        try:
            outcome = _run(settings, client, reason, console, on_step)
        except Exception as exc:
            log.exception("the training run failed")
            outcome = {"reason": reason, "error": f"{type(exc).__name__}: {exc}", "models": {}}
        outcome.update(finished_at=datetime.now(UTC).isoformat(),
                       seconds=round(time.perf_counter() - started, 1))
        client.set(LAST, json.dumps(outcome, default=str))
        _progress(client, "idle", "finished" if "error" not in outcome else "failed", 1, 1)
        return outcome


def _run(settings: Settings, client: redis.Redis, reason: str, console: Console | None,
         on_step: Callable[[str], None] | None) -> dict[str, Any]:
    store = LabelStore.of(client, settings)
    client.set(CHANGES_AT, store.changes())
    labels = store.all()
    counts = counts_with_tagged(store, labels)
    missing = needs(counts, settings)
    train, held = taught(labels, store)
    outcome: dict[str, Any] = {"reason": reason, "started_at": datetime.now(UTC).isoformat(),
                               "labels": {"fingerprint": store.fingerprint(labels), "counts": counts},
                               "models": {}}
    todo = [family for family in ("mood", "caption") if not missing[family]]
    for family in ("mood", "caption"):
        if missing[family]:
            outcome["models"][family] = {"trained": False, "promoted": False,
                                         "why": "not enough labels yet: " + "; ".join(missing[family])}
    config, gate = teach_config(settings), gate_of(settings)
    rules = load_rules(settings.models.safety_rules or DEFAULT_RULES)
    pinned = {"mood": settings.models.mood_checkpoint, "caption": settings.models.caption_checkpoint}
    with tempfile.TemporaryDirectory(prefix="cradle-teach-") as scratch:
        work = Path(scratch)
        for number, family in enumerate(todo, 1):
            step = f"training the {'mood model' if family == 'mood' else 'captioner'} ({number}/{len(todo)})"
            _progress(client, "running", step, number - 1, len(todo))
            if on_step:
                on_step(step)
            serving = dict(zip(("mood", "caption"), served_checkpoints(
                settings.models_dir, pinned["mood"], pinned["caption"]), strict=True))[family]
            if family == "mood":
                checkpoint, _summary = train_mood(train, work / "mood", config, settings.models_dir, console)
                candidate = score_mood(checkpoint, held, settings.models_dir)
                current = score_mood(serving, held, settings.models_dir) if serving.is_file() else None
            else:
                checkpoint, _summary = train_caption(train, settings.teach.tag_names, settings.teach.phrases,
                                                     work / "caption", config, settings.models_dir, console)
                candidate = score_scenes(checkpoint, held, rules, settings.models_dir)
                current = (score_scenes(serving, held, rules, settings.models_dir) if serving.is_file()
                           else None)
            outcome["models"][family] = _decide(settings, client, family, checkpoint, candidate, current,
                                                judge(candidate, current, gate), serving, outcome, work,
                                                pinned[family] is not None)
    return outcome


def _decide(settings: Settings, client: redis.Redis, family: str, checkpoint: Path, candidate: Scores,
            current: Scores | None, verdict: tuple[bool, str], serving: Path, outcome: dict[str, Any],
            work: Path, pinned: bool) -> dict[str, Any]:
    promote, why = verdict
    if promote and pinned:
        promote, why = False, (f"{why}; but models.{family}_checkpoint pins the serving model: "
                               "unset it to promote")
    registry = Registry(settings.models_dir, family)
    before = registry.current()
    picture = confusion_picture(candidate, work / f"{family}-confusion.png")
    card = {"parent": before.name if before else f"demo ({serving.name})", "reason": outcome["reason"],
            "labels": outcome["labels"], "scores": as_dict(candidate),
            "serving_scores": as_dict(current) if current else None, "verdict": why}
    version = registry.add(checkpoint, card, (picture,) if picture else ())
    if promote:
        registry.promote(version.name, why)
        _announce(settings, client, family, version.name, before.name if before else None, why, outcome)
    else:
        registry.update(version.name, status="refused")
    log.info("%s candidate %s %s: %s", family, version.name, "promoted" if promote else "refused", why)
    return {"trained": True, "promoted": promote, "why": why, "version": version.name,
            "scores": as_dict(candidate), "serving_scores": as_dict(current) if current else None}


def _announce(settings: Settings, client: redis.Redis, family: str, version: str, previous: str | None,
              why: str, outcome: dict[str, Any]) -> None:
    children = Counter(lab.child for lab in LabelStore.of(client, settings).all() if lab.child)
    child = children.most_common(1)[0][0] if children else FamilyStore(client, settings).children()[0].id
    Publisher(client, settings.bus).publish(ModelPromoted(
        family=family, version=version, previous=previous, why=why, child=child, source="training"))


def status(settings: Settings, client: redis.Redis) -> dict[str, Any]:
    """Everything the Teach screen, `cradle models` and the chatbot tell about teaching."""
    store = LabelStore.of(client, settings)
    counts = counts_with_tagged(store)
    progress = {str(k): str(v) for k, v in client.hgetall(PROGRESS).items()}
    running = client.exists(LOCK) > 0
    last = client.get(LAST)
    models = {}
    for family in ("mood", "caption"):
        current = Registry(settings.models_dir, family).current()
        card = current.card() if current else {}
        models[family] = {"version": current.name if current else None, "demo": current is None,
                          "scores": card.get("scores"), "promoted_at": card.get("promoted_at")}
    return {"counts": counts, "needs": needs(counts, settings), "running": running,
            "progress": progress if running else {}, "last_run": json.loads(str(last)) if last else None,
            "serving": models, "new_labels": store.changes() - int(client.get(CHANGES_AT) or 0)}


def due(settings: Settings, client: redis.Redis, now: datetime | None = None) -> str | None:
    """Why a run should start now (enough new labels, at the set hour), or None."""
    t = settings.teach
    if client.exists(LOCK):
        return None
    info = status(settings, client)
    if info["new_labels"] < t.min_new_labels or all(info["needs"].values()):
        return None
    local = settings.family.local(now or datetime.now(UTC))
    if t.hour is not None and local.hour != t.hour:
        return None
    return f"{info['new_labels']} new labels"


def request(celery: Celery, settings: Settings, reason: str) -> str:
    """Queue a run on the training queue; returns the task id."""
    limit = settings.teach.time_limit_s
    result = tasks.send(celery, tasks.RETRAIN, kwargs={"reason": reason}, queue="training",
                        time_limit=limit, soft_time_limit=limit - 30)
    return str(result.id)
