"""`cradle push`: the VAPID keys that let Cradle send Web Push notifications."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from services.cli.common import settings_or_exit
from services.delivery.webpush import generate_keys, read_public_key

app = typer.Typer(help="Web Push notifications to the family's phones.", no_args_is_help=True)
console = Console()


@app.command()
def keys(
    force: Annotated[
        bool, typer.Option(help="Replace existing keys (every phone must subscribe again).")
    ] = False,
) -> None:
    """Make the VAPID key pair under data_dir and print the public key."""
    settings = settings_or_exit()
    private, public = settings.delivery.key_files(settings.data_dir)
    existing = read_public_key(public)
    if private.is_file() and existing and not force:
        console.print(f"VAPID keys exist ({private}); public key:")
        console.print(existing, style="bold green", highlight=False, soft_wrap=True)
        return
    key = generate_keys(private, public)
    console.print(f"Wrote {private} (private, mode 600) and {public}. Public key:")
    console.print(key, style="bold green", highlight=False, soft_wrap=True)
    if force:
        console.print("[yellow]Phones subscribed with the old key get no pushes until they "
                      "subscribe again.[/]")
    problem = settings.delivery.subject_problem(settings.environment)
    if problem:
        console.print(f"[yellow]{problem}[/]")
