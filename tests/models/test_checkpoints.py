"""Checkpoint files: written whole, read back only in their format, versioned by their bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import checkpoints


def test_a_checkpoint_is_written_whole_and_read_back(tmp_path: Path) -> None:
    path = checkpoints.write({"format": "cradle.x/1", "state_dict": {"w": torch.ones(2)}},
                             tmp_path / "deep" / "x.pt")
    assert path == tmp_path / "deep" / "x.pt" and [p.name for p in path.parent.iterdir()] == ["x.pt"]
    again = checkpoints.read(path, "x", "cradle.x/1")
    assert torch.equal(again["state_dict"]["w"], torch.ones(2))
    with pytest.raises(ValueError, match=r"not a Cradle x checkpoint \(cradle.x/2\)"):
        checkpoints.read(path, "x", "cradle.x/2")
    with pytest.raises(FileNotFoundError, match="`cradle x train`"):
        checkpoints.read(tmp_path / "absent.pt", "x", "cradle.x/1")


def test_a_version_names_the_bytes_or_the_registry_version(tmp_path: Path) -> None:
    path = checkpoints.write({"format": "cradle.x/1", "n": 1}, tmp_path / "mood.pt")
    first = checkpoints.version(path)
    assert first.startswith("mood-") and first == checkpoints.version(path)
    checkpoints.write({"format": "cradle.x/1", "n": 2}, path)
    assert checkpoints.version(path) != first
    registered = checkpoints.write({"format": "cradle.x/1"},
                                   tmp_path / "registry" / "mood" / "v7" / "model.pt")
    assert checkpoints.version(registered) == "v7"
