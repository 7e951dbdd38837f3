"""`cradle users`: the family's users and their bearer tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.auth import AuthError, Role, UserStore
from services.cli.common import settings_or_exit
from services.stack import redis_for_cli

app = typer.Typer(help="Users (parents and caregivers) and their tokens.", no_args_is_help=True)
console = Console()


def _show_token(name: str, token: str) -> None:
    console.print(f"Token for [bold]{name}[/] (shown once; keep it like a house key):")
    console.print(token, style="bold green", highlight=False, soft_wrap=True)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="How the assistant calls this person.")],
    role: Annotated[Role, typer.Option(help="parent or caregiver.")] = Role.parent,
) -> None:
    """Add a user and print their first token."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            user, token = UserStore(client).add(name, role)
        except AuthError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    console.print(f"Added {user.name} ({user.role}).")
    _show_token(user.name, token)


@app.command()
def token(name: Annotated[str, typer.Argument(help="An existing user.")]) -> None:
    """Give an existing user another token (a second phone, say)."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            user, new_token = UserStore(client).issue_token(name)
        except AuthError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    _show_token(user.name, new_token)


@app.command("list")
def list_users() -> None:
    """List users, their roles and how many tokens each holds."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        users = UserStore(client).all()
    table = Table("name", "role", "tokens", "added")
    for user in users:
        table.add_row(user.name, user.role, str(len(user.token_ids)), f"{user.created_at:%Y-%m-%d}")
    console.print(table if users else "No users yet: 'cradle users add NAME --role parent'.")


@app.command()
def revoke(name: Annotated[str, typer.Argument(help="The user to remove.")]) -> None:
    """Remove a user; every token they hold stops working at once."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            user = UserStore(client).revoke(name)
        except AuthError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    console.print(f"Revoked {user.name} and {len(user.token_ids)} token(s).")
