"""The `backup` section: where the family's backups go, how often, and how many are kept."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.settings.sections import Section


class BackupSettings(Section):
    folder: Path = Field(
        default=Path("backups"),
        description="Folder for backup archives; a relative path is under data_dir. Best on "
        "another disk than data_dir, so a lost disk does not take the backups with it.",
    )
    enabled: bool = Field(
        default=True, description="Make backups on a schedule (the training worker's beat)."
    )
    hour: int | None = Field(
        default=4, ge=0, le=23,
        description="Local hour (family.timezone) of the daily backup; empty: one every every_h "
        "hours instead.",
    )
    every_h: float = Field(
        default=24.0, gt=0, le=24 * 31,
        description="Hours between backups when no hour is set.",
    )
    keep: int = Field(
        default=7, ge=1, le=1000,
        description="Newest archives kept in the folder; older ones are deleted after a "
        "scheduled backup.",
    )
    check_every_s: float = Field(
        default=300.0, ge=5, le=3600,
        description="How often the training worker's beat checks whether a backup is due.",
    )

    def folder_in(self, data_dir: Path) -> Path:
        """The archives' folder, resolved under `data_dir` when relative."""
        return (data_dir / self.folder).resolve()
