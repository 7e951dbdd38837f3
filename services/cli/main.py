"""The `cradle` command."""

from __future__ import annotations

import typer

from services.cli import (
    assets,
    backup,
    camera,
    caption,
    chatbot,
    doctor,
    family,
    games,
    models,
    mood,
    push,
    speech,
    up,
    users,
    vision,
)

app = typer.Typer(
    help="Cradle: a private, self-hosted family assistant for the nursery.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command()(up.up)
app.command()(up.status)
app.command()(doctor.doctor)
app.add_typer(users.app, name="users")
app.add_typer(family.app, name="family")
app.add_typer(assets.app, name="assets")
app.add_typer(mood.app, name="mood")
app.add_typer(speech.app, name="speech")
app.add_typer(caption.app, name="caption")
app.add_typer(push.app, name="push")
app.add_typer(camera.app, name="camera")
app.add_typer(games.app, name="games")
app.add_typer(chatbot.app, name="chatbot")
app.add_typer(vision.app, name="vision")
app.add_typer(models.app, name="models")
app.add_typer(backup.app, name="backup")
app.command()(backup.restore)

if __name__ == "__main__":
    app()
