from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def doctor(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(env_overrides, COLUMNS="250")
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "doctor"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_doctor_names_missing_weights_and_the_fix(tmp_path: Path) -> None:
    result = doctor({"CRADLE_DATA_DIR": str(tmp_path), "CRADLE_MODELS__DIR": str(tmp_path / "empty"),
                     "CRADLE_HTTPS__CADDY": "no-such-caddy"})
    assert result.returncode == 1
    assert "missing: " + str(tmp_path / "empty" / "backbones") in result.stdout
    assert "cradle assets fetch" in result.stdout
    # No caddy: a warning (the stack runs on plain http), with the fix.
    assert "no-such-caddy is not installed" in result.stdout
    assert "sudo apt-get install caddy" in result.stdout
    # No backup yet: a warning that says how to make one.
    assert "no backup in " + str(tmp_path / "backups") in result.stdout
    assert "cradle backup" in result.stdout


def test_doctor_stops_on_bad_settings_naming_the_field(tmp_path: Path) -> None:
    result = doctor({"CRADLE_DATA_DIR": str(tmp_path), "CRADLE_GATEWAY__PORT": "not-a-port"})
    assert result.returncode == 2
    assert "CRADLE_GATEWAY__PORT" in result.stdout + result.stderr
