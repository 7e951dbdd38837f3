"""The model registry on disk: versions, the serving one, promotion, rollback, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.registry import Registry, RegistryError, serving


def checkpoint(folder: Path, content: bytes) -> Path:
    path = folder / f"run-{content.hex()[:8]}.pt"
    path.write_bytes(content)
    return path


def test_versions_promotion_and_rollback_walk_back_the_chain(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models", "mood")
    demo = tmp_path / "demo.pt"
    assert registry.current() is None and serving(tmp_path / "models", "mood", None, demo) == demo
    first = registry.add(checkpoint(tmp_path, b"one"), {"scores": {"accuracy": 0.7}})
    second = registry.add(checkpoint(tmp_path, b"two"), {"scores": {"accuracy": 0.8}, "parent": first.name})
    assert [v.name for v in registry.versions()] == [first.name, second.name]
    assert first.checkpoint.read_bytes() == b"one" and first.card()["status"] == "candidate"
    assert first.name.startswith("mood-") and first.name != second.name

    registry.promote(first.name, "better than the demo")
    registry.promote(second.name, "better than the first")
    assert registry.current() == second
    assert serving(tmp_path / "models", "mood", None, demo) == second.checkpoint
    pinned = tmp_path / "mine.pt"
    assert serving(tmp_path / "models", "mood", pinned, demo) == pinned  # a setting wins
    assert registry.get(second.name).card()["status"] == "promoted"

    assert registry.rollback() == first
    assert registry.get(second.name).card()["status"] == "rolled back"
    assert registry.rollback() is None  # back to the demo model
    assert registry.current() is None
    with pytest.raises(RegistryError, match="demo model cannot be rolled back"):
        registry.rollback()
    assert [h["action"] for h in registry.history()] == ["promote", "promote", "rollback", "rollback"]


def test_unknown_versions_and_families_are_refused_by_name(tmp_path: Path) -> None:
    registry = Registry(tmp_path, "caption")
    with pytest.raises(RegistryError, match="no caption version 'caption-x'"):
        registry.get("caption-x")
    for sneaky in ("../mood/x", ".hidden", ""):
        with pytest.raises(RegistryError):
            registry.get(sneaky)
    with pytest.raises(RegistryError, match="no model family"):
        Registry(tmp_path, "speech")
    (registry.root).mkdir(parents=True)
    (registry.root / "current").write_text("caption-gone\n")
    assert registry.current() is None  # a pointer to a deleted version serves the demo


@given(st.lists(st.sampled_from(["promote", "rollback"]), min_size=1, max_size=12))
@settings(max_examples=25, deadline=None)
def test_rollback_serves_what_served_before_the_current_version_was_promoted(
        tmp_path_factory: pytest.TempPathFactory, steps: list[str]) -> None:
    root = tmp_path_factory.mktemp("registry")
    registry = Registry(root, "mood")
    made = [registry.add(checkpoint(root, bytes([i])), {}) for i in range(3)]
    current: str | None = None
    before: dict[str, str | None] = {}  # version -> what served when it was last promoted
    for n, step in enumerate(steps):
        if step == "promote":
            name = made[n % 3].name
            registry.promote(name, "test")
            before[name], current = current, name
        elif current is not None:
            registry.rollback()
            current = before[current]
        found = registry.current()
        assert (found.name if found else None) == current
