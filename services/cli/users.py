"""`cradle users`: the family's users and their bearer tokens."""

from __future__ import annotations

import io
import socket
from typing import Annotated

import qrcode
import typer
from rich.console import Console
from rich.table import Table

from services import https
from services.auth import AuthError, Role, UserStore
from services.cli.common import settings_or_exit
from services.settings import Settings
from services.stack import redis_for_cli

app = typer.Typer(help="Users (parents and caregivers) and their tokens.", no_args_is_help=True)
console = Console()


def sign_in_link(settings: Settings, token: str) -> str:
    """The web app's address with the token after '#': the browser keeps the part after
    '#' to itself, so the token never reaches a server log or a proxy."""
    base = https.phone_url(settings)
    if not base:  # no front door: the gateway itself, which only this machine may reach
        host = settings.gateway.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        base = f"http://{host}:{settings.gateway.port}"
    return f"{base.rstrip('/')}/#token={token}"


def qr_code(link: str) -> qrcode.QRCode:
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(link)
    code.make(fit=True)
    return code


def qr_text(link: str) -> str:
    """The link as a QR code in text blocks (two modules a line), light on dark, for the
    phone's camera to read off the screen."""
    out = io.StringIO()
    qr_code(link).print_ascii(out=out, invert=True)
    return out.getvalue()


def _show_token(settings: Settings, name: str, token: str, qr: bool) -> None:
    console.print(f"Token for [bold]{name}[/] (shown once; keep it like a house key):")
    console.print(token, style="bold green", highlight=False, soft_wrap=True)
    link = sign_in_link(settings, token)
    console.print("Sign in on the phone with this link:")
    console.print(link, highlight=False, soft_wrap=True)
    if qr:
        console.print("or point the phone's camera at this code:")
        console.print(qr_text(link), highlight=False, soft_wrap=True, markup=False)
    if https.phone_url(settings) is None:
        console.print(f"[dim]{https.unavailable(settings)}: set delivery.public_url to the address the "
                      "phones use (https:// for notifications and the microphone).[/]")
    elif not settings.delivery.public_url:
        console.print("[dim]First time on this phone? Install Cradle's certificate from the sign-in "
                      "screen, or the browser will warn about the address.[/]")


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="How the assistant calls this person.")],
    role: Annotated[Role, typer.Option(help="parent or caregiver.")] = Role.parent,
    qr: Annotated[bool, typer.Option(help="Print the sign-in link as a QR code too.")] = True,
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
    _show_token(settings, user.name, token, qr)


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="An existing user.")],
    qr: Annotated[bool, typer.Option(help="Print the sign-in link as a QR code too.")] = True,
) -> None:
    """Give an existing user another token (a second phone, say)."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            user, new_token = UserStore(client).issue_token(name)
        except AuthError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    _show_token(settings, user.name, new_token, qr)


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
