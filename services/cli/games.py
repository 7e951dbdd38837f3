"""`cradle games`: the family's repository of games, from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.cli.common import settings_or_exit
from services.games import DuplicateGame, Energy, Filters, Game, GameError, Place, open_store
from services.stack import redis_for_cli

app = typer.Typer(help="Games and activities for the child: import, search, add.", no_args_is_help=True)
console = Console()


def _table(games: list[Game], scores: list[float] | None = None) -> Table:
    table = Table("title", "months", "places", "energy", "toys", *(["score"] if scores else []))
    table.add_column("id", no_wrap=True)
    for index, game in enumerate(games):
        low, high = game.age_months
        row = [game.title, f"{low}-{high}", ", ".join(game.places), game.energy,
               ", ".join(game.materials) or "none"]
        table.add_row(*row, *([f"{scores[index]:.2f}"] if scores else []), game.id)
    return table


@app.command("import")
def import_games() -> None:
    """Load the shipped catalogue into Redis (again is fine: games are replaced by id)."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            count = open_store(client, settings.models_dir).import_catalogue()
        except (GameError, FileNotFoundError) as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    console.print(f"Imported {count} games.")


@app.command("list")
def list_games() -> None:
    """Every game in the repository."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        games = open_store(client, settings.models_dir).all()
    if not games:
        console.print("No games yet; run `cradle games import`.")
        return
    console.print(_table(sorted(games, key=lambda g: g.title)))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What kind of game, in your own words.")] = "",
    age_months: Annotated[int | None, typer.Option(min=0, max=48, help="The child's age.")] = None,
    place: Annotated[Place | None, typer.Option(help="Where you are.")] = None,
    energy: Annotated[Energy | None, typer.Option(help="calm or active.")] = None,
    no_toys: Annotated[bool, typer.Option("--no-toys", help="Only games needing nothing.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
) -> None:
    """The best games for a query, within the filters."""
    settings = settings_or_exit()
    filters = Filters(age_months=age_months, place=place, energy=energy, no_toys=no_toys)
    with redis_for_cli(settings) as client:
        hits = open_store(client, settings.models_dir).search(query, filters, limit=limit)
    if not hits:
        console.print("No game fits those filters.")
        raise typer.Exit(1)
    console.print(_table([h.game for h in hits], [h.score for h in hits]))


@app.command()
def add(
    text: Annotated[str, typer.Argument(help="The game in your own words.")],
    by: Annotated[str, typer.Option("--by", help="Who is adding it.")],
) -> None:
    """Save a new game told in free text."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            game = open_store(client, settings.models_dir).add(text, added_by=by)
        except DuplicateGame as exc:
            console.print(f"Already saved: [bold]{exc.existing.title}[/] as {exc.existing.id}.")
            raise typer.Exit(1) from exc
        except ValueError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    console.print(f"Saved [bold]{game.title}[/] as {game.id} (added by {game.added_by}).")


@app.command()
def show(game_id: Annotated[str, typer.Argument(help="A game id from `list` or `search`.")]) -> None:
    """One game in full."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        try:
            game = open_store(client, settings.models_dir).get(game_id)
        except GameError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    low, high = game.age_months
    console.print(f"[bold]{game.title}[/] ({game.id})")
    console.print(f"{low}-{high} months; {', '.join(game.places)}; {game.energy}; about {game.minutes} min")
    console.print(f"Needs: {', '.join(game.materials) or 'nothing'}. Skills: {', '.join(game.skills)}.")
    for number, step in enumerate(game.steps, start=1):
        console.print(f"  {number}. {step}")
    console.print(f"Safety: {game.safety}")
    if game.added_by:
        console.print(f"Added by {game.added_by}.")
