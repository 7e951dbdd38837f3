"""`cradle family`: the children (names, nicknames, pronouns, birth dates, cameras) and who
looks after them. Changes go to the family store, which every part reads on each call:
the chatbot, the alerts and the cameras see them at once, no restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from services.auth import UserStore
from services.cli.common import err, settings_or_exit
from services.family import UNSET, Child, FamilyError, FamilyStore
from services.stack import redis_for_cli

app = typer.Typer(help="The children and who looks after them.", no_args_is_help=True)
console = Console()


class PronounChoice(StrEnum):
    she = "she"
    he = "he"
    they = "they"


Name = Annotated[str, typer.Argument(help="The child's name, or a nickname (any case, accents or none).")]
Born = Annotated[str | None, typer.Option("--born", help="Date of birth, YYYY-MM-DD.")]
Cameras = Annotated[list[str] | None, typer.Option("--camera", help="A camera that watches this child "
                                                   "(repeat for more; see 'cradle camera status').")]
Nicknames = Annotated[list[str] | None, typer.Option("--nickname", help="Another name the family uses "
                                                     "(repeat for more).")]


def refuse(why: str) -> typer.Exit:
    err.print(f"[bold red]{why}[/]", highlight=False)
    return typer.Exit(2)


def birth_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise refuse(f"--born {text!r} is not a date: write it YYYY-MM-DD, e.g. 2025-03-14") from None


@contextmanager
def family_store() -> Iterator[FamilyStore]:
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        yield FamilyStore(client, settings)


def changed(action: Callable[[FamilyStore], Child]) -> Child:
    """`action` on the store, a FamilyError said as one sentence with exit code 2."""
    with family_store() as store:
        try:
            return action(store)
        except FamilyError as exc:
            raise refuse(str(exc)) from exc


def described(child: Child) -> str:
    parts: list[str] = [child.pronoun]
    if child.born:
        parts.append(f"born {child.born.isoformat()}")
    if child.cameras:
        parts.append(f"watched by {', '.join(child.cameras)}")
    return f"{child.name} ({'; '.join(parts)})"


@app.command("add-child")
def add_child(
    name: Annotated[str, typer.Argument(help="The child's name, as Cradle should say it.")],
    born: Annotated[str, typer.Option("--born", help="Date of birth, YYYY-MM-DD.")],
    pronoun: Annotated[PronounChoice, typer.Option(help="How Cradle speaks of them.")] = PronounChoice.they,
    camera: Cameras = None,
    nickname: Nicknames = None,
) -> None:
    """Add a child: their name, birth date, pronoun, cameras and nicknames."""
    day = birth_date(born)
    child = changed(lambda store: store.add(name, born=day, pronoun=pronoun.value, cameras=camera or [],
                                            nicknames=nickname or []))
    console.print(f"Added {described(child)}.", highlight=False)


@app.command("list")
def list_family() -> None:
    """The children, and the grown-ups who look after them with their roles."""
    with family_store() as store:
        children, users = store.children(), UserStore(store.client).all()
    today = date.today()
    table = Table("name", "nicknames", "pronoun", "born", "age", "cameras", "id", title="Children")
    for child in children:
        months = child.age_months(today)
        age = "" if months is None else f"{months // 12} y {months % 12} m" if months >= 24 else f"{months} m"
        table.add_row(child.name, ", ".join(child.nicknames), child.pronoun,
                      child.born.isoformat() if child.born else "", age, ", ".join(child.cameras), child.id)
    console.print(table)
    grown_ups = Table("name", "role", title="Caregivers")
    for user in users:
        grown_ups.add_row(user.name, user.role)
    console.print(grown_ups if users else "No caregivers yet: 'cradle users add NAME --role parent'.")


@app.command()
def edit(
    named: Name,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    born: Born = None,
    pronoun: Annotated[PronounChoice | None, typer.Option(help="she, he or they.")] = None,
    camera: Annotated[list[str] | None, typer.Option("--camera", help="The cameras that watch this child "
                                                     "(replaces the list; repeat for more).")] = None,
    nickname: Annotated[list[str] | None, typer.Option("--nickname", help="The nicknames (replaces the "
                                                       "list; repeat for more).")] = None,
    no_cameras: Annotated[bool, typer.Option("--no-cameras", help="No camera watches this child.")] = False,
    no_nicknames: Annotated[bool, typer.Option("--no-nicknames", help="Forget the nicknames.")] = False,
) -> None:
    """Change a child's name, birth date, pronoun, cameras or nicknames."""
    changes: dict[str, Any] = {
        "name": UNSET if name is None else name,
        "born": UNSET if born is None else birth_date(born),
        "pronoun": UNSET if pronoun is None else pronoun.value,
        "cameras": [] if no_cameras else UNSET if camera is None else camera,
        "nicknames": [] if no_nicknames else UNSET if nickname is None else nickname,
    }
    if all(value is UNSET for value in changes.values()):
        raise refuse("nothing to change: give --name, --born, --pronoun, --camera or --nickname")
    child = changed(lambda store: store.edit(named, **changes))
    console.print(f"Now {described(child)}.", highlight=False)


@app.command()
def remove(named: Name) -> None:
    """Take a child out of the family (their timeline stays until it ages out)."""
    child = changed(lambda store: store.remove(named))
    console.print(f"Removed {child.name}.", highlight=False)
