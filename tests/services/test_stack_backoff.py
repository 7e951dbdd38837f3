"""`cradle up`'s restart backoff: doubling while a part keeps dying young, back to the
shortest delay once it has run healthily."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from services.settings import Settings
from services.stack import Part, Stack

# Dies at once on its first two runs, then runs for a while (healthy) before it dies again.
FLAKY = """
import pathlib, sys, time
runs = pathlib.Path(sys.argv[1])
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
if len(runs.read_text()) >= 3:
    time.sleep(0.8)
sys.exit(3)
"""


def test_backoff_doubles_then_resets_after_a_healthy_run(settings: Settings, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    part = Part("flaky", [sys.executable, "-c", FLAKY, str(runs)], tmp_path / "flaky.log", {})
    stack = Stack(settings, parts=[part], healthy_after_s=0.5)
    part.start()
    delays: list[int] = []
    deadline = time.monotonic() + 30
    while len(delays) < 3 and time.monotonic() < deadline:
        for line in stack.supervise_once():
            if found := re.search(r"exited \(3\); restarting in (\d+) s", line):
                delays.append(int(found[1]))
        time.sleep(0.05)
    stack.stop()
    assert runs.read_text() == "xxx"
    assert delays == [1, 2, 1], "young deaths double the delay; a healthy run resets it"
    assert part.restarts == 2
