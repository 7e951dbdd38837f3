"""The model registry: every version of the family's models, and which one serves.

    <models dir>/registry/<family>/<version>/model.pt    the checkpoint
    <models dir>/registry/<family>/<version>/card.json   what it is (below)
    <models dir>/registry/<family>/<version>/*.png       its pictures (confusion matrix)
    <models dir>/registry/<family>/current               the serving version's name
    <models dir>/registry/<family>/history.jsonl         every promotion and rollback

`family` is "mood" or "caption". A card holds the version's metrics on the family's
held-out frames, the labels it was trained on (their fingerprint and counts), its
parent (the version that served when it was trained), its familiarity statistics in
brief, the gate's verdict and why. With no `current` (a family that never taught
Cradle), the demo model serves. Files are written whole and renamed into place, so a
worker that reads `current` mid-promotion sees the old version or the new one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.files import sha256_file

FAMILIES = ("mood", "caption")


class RegistryError(LookupError):
    """A version or family the registry does not hold; the message says which exist."""


@dataclass(frozen=True)
class Version:
    family: str
    name: str
    folder: Path

    @property
    def checkpoint(self) -> Path:
        return self.folder / "model.pt"

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = json.loads((self.folder / "card.json").read_text())
        return card


def _write(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text)
    scratch.replace(path)


class Registry:
    """One family's versions (`Registry(models_dir, "mood")`)."""

    def __init__(self, models_dir: Path, family: str) -> None:
        if family not in FAMILIES:
            raise RegistryError(f"no model family {family!r}; the registry holds {', '.join(FAMILIES)}")
        self.family = family
        self.root = Path(models_dir) / "registry" / family

    def versions(self) -> list[Version]:
        """Every version, oldest first."""
        if not self.root.is_dir():
            return []
        found = [Version(self.family, p.name, p) for p in self.root.iterdir()
                 if p.is_dir() and (p / "card.json").is_file() and (p / "model.pt").is_file()]
        return sorted(found, key=lambda v: (v.card().get("created_at", ""), v.name))

    def get(self, name: str) -> Version:
        version = Version(self.family, name, self.root / name)
        if "/" in name or name.startswith(".") or not (version.folder / "card.json").is_file():
            known = ", ".join(v.name for v in self.versions()) or "none yet"
            raise RegistryError(f"no {self.family} version {name!r} (known: {known})")
        return version

    def add(self, checkpoint: Path, card: dict[str, Any], pictures: tuple[Path, ...] = ()) -> Version:
        """Copy `checkpoint` in as a new version (named by its bytes) with `card`."""
        name = f"{self.family}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{sha256_file(checkpoint)[:8]}"
        folder = self.root / name
        scratch = self.root / f".{name}.tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        shutil.copyfile(checkpoint, scratch / "model.pt")
        for picture in pictures:
            if picture.is_file():
                shutil.copyfile(picture, scratch / picture.name)
        full = {"version": name, "family": self.family, "created_at": datetime.now(UTC).isoformat(),
                "status": "candidate", **card}
        (scratch / "card.json").write_text(json.dumps(full, indent=1, default=str))
        scratch.replace(folder)
        return Version(self.family, name, folder)

    def update(self, name: str, **fields: Any) -> dict[str, Any]:
        version = self.get(name)
        card = {**version.card(), **fields}
        _write(version.folder / "card.json", json.dumps(card, indent=1, default=str))
        return card

    def current(self) -> Version | None:
        """The serving version, or None when the demo model serves."""
        try:
            name = (self.root / "current").read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return self.get(name) if name else None
        except RegistryError:
            return None

    def promote(self, name: str, why: str, by: str = "cradle") -> Version:
        """Serve `name` from now on; the change is recorded in history.jsonl."""
        version = self.get(name)
        before = self.current()
        self.update(name, status="promoted", verdict=why, promoted_at=datetime.now(UTC).isoformat())
        self._record({"at": datetime.now(UTC).isoformat(), "action": "promote", "version": name,
                      "previous": before.name if before else None, "by": by, "why": why})
        _write(self.root / "current", name + "\n")
        return version

    def history(self) -> list[dict[str, Any]]:
        path = self.root / "history.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def rollback(self, by: str = "cradle") -> Version | None:
        """Serve again what served before the current version (None: the demo model)."""
        current = self.current()
        if current is None:
            raise RegistryError(f"no {self.family} version serves yet: the demo model cannot be rolled back")
        previous = next((h["previous"] for h in reversed(self.history())
                         if h["version"] == current.name and h["action"] == "promote"), None)
        self._record({"at": datetime.now(UTC).isoformat(), "action": "rollback",
                      "version": previous, "previous": current.name, "by": by,
                      "why": f"rolled back from {current.name}"})
        self.update(current.name, status="rolled back")
        if previous is None:
            (self.root / "current").unlink(missing_ok=True)
            return None
        _write(self.root / "current", previous + "\n")
        return self.get(previous)

    def _record(self, entry: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "history.jsonl").open("a") as stream:
            stream.write(json.dumps(entry) + "\n")


def version_of(checkpoint: Path) -> str | None:
    """The registry version a checkpoint file is (`.../registry/<family>/<version>/model.pt`),
    or None for a file outside the registry."""
    path = Path(checkpoint)
    if path.name == "model.pt" and path.parent.parent.parent.name == "registry" and (
            path.parent.parent.name in FAMILIES):
        return path.parent.name
    return None


def serving(models_dir: Path, family: str, pinned: Path | None, demo: Path) -> Path:
    """The checkpoint that serves `family`: a pinned one (a setting) first, then the
    registry's current version, then the demo model."""
    if pinned is not None:
        return pinned
    current = Registry(models_dir, family).current()
    return current.checkpoint if current is not None else demo
