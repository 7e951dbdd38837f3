"""`cradle up` on free ports, seen by `cradle status`, stopped cleanly by Ctrl-C (SIGINT).

The whole stack, chatbot included: Rasa (its own Python 3.10 environment) and the action
server start too, and a question typed to the gateway is answered by them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx

from services.camera.demo import CHILD, LOOP_S, SCRIPTED_ALERTS
from services.redis_runtime import free_port
from services.settings.sections import CelerySettings
from services.stack import pid_alive
from tests.conftest import ROOT, wait_for


def cradle(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def demo_story_alerts(port: int, bearer: dict[str, str]) -> list[dict[str, object]]:
    """Waits until the captions on the demo child's timeline span one whole pass of the
    story (and a little more), then returns the alerts raised so far, each checked
    against the story's script."""
    base = f"http://127.0.0.1:{port}"

    def captions() -> list[datetime]:
        found = httpx.get(f"{base}/api/timeline", headers=bearer, timeout=10,
                          params={"child": CHILD, "type": "caption.observed"}).json()["events"]
        return [datetime.fromisoformat(e["occurred_at"]) for e in found if e["familiar"]]

    wait_for(lambda: (seen := captions()) and (seen[-1] - seen[0]).total_seconds() >= LOOP_S + 10,
             timeout=LOOP_S * 3 + 120, interval=2, what="a whole pass of the demo story")
    alerts = httpx.get(f"{base}/api/alerts", headers=bearer, params={"child": CHILD}).json()["alerts"]
    for alert in alerts:
        assert any((alert["kind"], alert["severity"]) == (kind, severity) and words in alert["reason"]
                   for kind, severity, words in SCRIPTED_ALERTS), f"unscripted alert: {alert}"
    for kind, _severity, words in SCRIPTED_ALERTS:
        assert any(a["kind"] == kind and words in a["reason"] for a in alerts), f"no {kind} ({words}) alert"
    return alerts


def test_up_starts_the_stack_and_status_sees_it(tmp_path: Path) -> None:
    port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(
        CRADLE_DATA_DIR=str(tmp_path), CRADLE_GATEWAY__PORT=str(port), CRADLE_ENVIRONMENT="test",
        CRADLE_RASA__URL=f"http://127.0.0.1:{rasa_port}",
        CRADLE_RASA__ACTIONS_URL=f"http://127.0.0.1:{actions_port}/webhook",
        CRADLE_HTTPS__PORT=str(free_port()),  # Caddy in front, off the real 8443
        COLUMNS="200",
    )
    assert cradle("status", env=env).returncode == 3  # nothing runs yet
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "up"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: cradle("status", env=env).returncode == 0, timeout=300, interval=1,
                 what="cradle status to report the stack up")
        status = cradle("status", env=env).stdout
        for part in ("redis", "worker-default", "worker-vision", "worker-speech", "worker-training",
                     "timeline", "alerts", "delivery", "camera", "actions", "rasa", "gateway"):
            assert part in status
        assert "(embedded)" in status
        state = json.loads((tmp_path / "run" / "stack.json").read_text())
        pids = [part["pid"] for part in state["parts"].values()]
        # A question goes first: speech below the gateway and the chatbot, vision below speech,
        # training last, each at the priority its setting gives.
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        nice = {name: os.getpriority(os.PRIO_PROCESS, part["pid"]) - ours
                for name, part in state["parts"].items()}
        c = CelerySettings()
        assert [nice[name] for name in ("gateway", "actions", "rasa", "worker-speech", "worker-vision",
                                        "worker-training")] == [0, 0, 0, c.speech_nice, c.vision_nice,
                                                                c.training_nice]
        assert 0 < c.speech_nice < c.vision_nice < c.training_nice
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}

        added = cradle("users", "add", "Anna", env=env)
        token = re.search(r"#token=(cr_[\w-]+)", added.stdout).group(1)  # type: ignore[union-attr]
        me = httpx.get(f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "Anna"
        chat = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"text": "hello"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert chat.status_code == 200 and chat.json()["reply"].startswith("Hello"), chat.text

        # The demo camera plays its story through the real workers and alerts engine: one
        # whole pass of it raises exactly the alerts its script holds, and no other.
        bearer = {"Authorization": f"Bearer {token}"}
        scripted = demo_story_alerts(port, bearer)
        assert scripted, "the demo raised none of its scripted alerts"

        # a part that dies is restarted by the supervisor
        os.kill(state["parts"]["gateway"]["pid"], signal.SIGKILL)
        def restarted() -> bool:
            parts = json.loads((tmp_path / "run" / "stack.json").read_text())["parts"]
            return parts["gateway"]["restarts"] == 1 and cradle("status", env=env).returncode == 0

        wait_for(
            restarted,
            timeout=60, interval=0.5, what="the gateway to be restarted",
        )
        state = json.loads((tmp_path / "run" / "stack.json").read_text())
        pids = [part["pid"] for part in state["parts"].values()]
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(60)
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()
    assert "Cradle stopped." in (tmp_path / "up.log").read_text()
    assert not any(pid_alive(pid) for pid in pids)
    assert not (tmp_path / "run" / "stack.json").exists()
    assert cradle("status", env=env).returncode == 3

    # the family's data outlived the stack: the user is still there
    listed = cradle("users", "list", env=env)
    assert "Anna" in listed.stdout
