"""What every `cradle` command shares: settings that stop with a readable message."""

from __future__ import annotations

import typer
from rich.console import Console

from services.settings import Settings, SettingsError, get_settings

err = Console(stderr=True)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        err.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
