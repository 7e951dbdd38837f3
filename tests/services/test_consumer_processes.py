"""`python -m services.timeline` and `python -m services.alerts` as real processes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import redis

from services.alerts.state import AlertStore
from services.bus.events import HazardDetected, MoodObserved
from services.bus.streams import Publisher
from services.redis_runtime import EmbeddedRedis
from services.settings.sections import BusSettings
from services.timeline.store import Timeline
from tests.conftest import ROOT, child_env, wait_for


def start(module: str, redis_server: EmbeddedRedis, tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module], cwd=ROOT,
        env=child_env(redis_server.url, tmp_path / "data"),
        stdout=(tmp_path / f"{module}.log").open("wb"), stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


def test_timeline_and_alerts_consume_the_stream(
    redis_server: EmbeddedRedis, client: redis.Redis, tmp_path: Path
) -> None:
    timeline = start("services.timeline", redis_server, tmp_path)
    alerts = start("services.alerts", redis_server, tmp_path)
    publisher = Publisher(client, BusSettings())
    try:
        mood = MoodObserved(frame_id="f1", camera="cot", child="Mia", mood="sleep",
                            probabilities={"sleep": 1.0}, model_version="t")
        publisher.publish(mood)
        for frame in ("f2", "f3"):  # two frames of one hazard within the window: an alert
            publisher.publish(HazardDetected(
                frame_id=frame, camera="cot", child="Mia", kind="stairs", severity="urgent",
                caption="the baby is crawling near the stairs", rule="stairs",
            ))
        stored = wait_for(lambda: Timeline(client).events("Mia"), timeout=30, what="the timeline")
        assert stored[0].id == mood.id
        raised = wait_for(lambda: AlertStore(client).list(child="Mia"), timeout=30, what="an alert")
        assert [(a.kind, a.severity) for a in raised] == [("hazard", "urgent")]
        assert "stairs" in raised[0].reason
    finally:
        codes = [stop(timeline), stop(alerts)]
    assert codes == [0, 0]
