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
from pathlib import Path

import httpx

from services.redis_runtime import free_port
from services.stack import pid_alive
from tests.conftest import ROOT, wait_for


def cradle(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def test_up_starts_the_stack_and_status_sees_it(tmp_path: Path) -> None:
    port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(
        CRADLE_DATA_DIR=str(tmp_path), CRADLE_GATEWAY__PORT=str(port), CRADLE_ENVIRONMENT="test",
        CRADLE_RASA__URL=f"http://127.0.0.1:{rasa_port}",
        CRADLE_RASA__ACTIONS_URL=f"http://127.0.0.1:{actions_port}/webhook",
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
        for part in ("redis", "worker-default", "worker-vision", "worker-speech", "timeline", "alerts",
                     "delivery", "camera", "actions", "rasa", "gateway"):
            assert part in status
        assert "(embedded)" in status
        state = json.loads((tmp_path / "run" / "stack.json").read_text())
        pids = [part["pid"] for part in state["parts"].values()]
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}

        added = cradle("users", "add", "Anna", env=env)
        token = re.search(r"#token=(cr_[\w-]+)", added.stdout).group(1)  # type: ignore[union-attr]
        me = httpx.get(f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "Anna"
        chat = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"text": "hello"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert chat.status_code == 200 and chat.json()["reply"].startswith("Hello"), chat.text

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
