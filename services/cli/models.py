"""`cradle models`: the registry of the family's models, and retraining.

    cradle models list               every version, the serving one marked
    cradle models show VERSION       its card: scores, labels, parent, verdict
    cradle models promote VERSION    serve it (a person's choice: the gate is not asked)
    cradle models rollback [FAMILY]  serve again what served before
    cradle models retrain [--here]   a training run now (on the training worker, or here)

Workers serve a promoted or rolled-back version from their next batch, with no restart.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from models.registry import FAMILIES, Registry, RegistryError
from services.cli.common import settings_or_exit
from services.settings import Settings
from services.stack import read_state, redis_for_cli

app = typer.Typer(help="The family's models: versions, promotion, rollback, retraining.",
                  no_args_is_help=True)
console = Console()


def _family_of(version: str) -> str:
    family = version.split("-", 1)[0]
    if family not in FAMILIES:
        console.print(f"[red]{version!r} is not a version name (mood-… or caption-…): "
                      "see cradle models list[/]")
        raise typer.Exit(2)
    return family


def _score(card: dict[str, Any]) -> str:
    scores = card.get("scores") or {}
    if card.get("family") == "mood" and scores.get("accuracy") is not None:
        return f"accuracy {scores['accuracy']:.0%}"
    if scores.get("hazard_recall") is not None:
        return f"hazards: recall {scores['hazard_recall']:.0%}, precision {scores['hazard_precision']:.0%}"
    return "-"


@app.command("list")
def list_versions() -> None:
    """Every version of each model, oldest first; the serving one is marked."""
    settings = settings_or_exit()
    table = Table("", "version", "status", "on held-out pictures", "labels", "verdict")
    for family in FAMILIES:
        registry = Registry(settings.models_dir, family)
        current = registry.current()
        if current is None:
            table.add_row("▶", f"{family}: the demo model", "serving", "-", "-", "nothing promoted yet")
        for version in registry.versions():
            card = version.card()
            frames = (card.get("labels") or {}).get("counts", {}).get("frames", "-")
            table.add_row("▶" if current and current.name == version.name else "", version.name,
                          card.get("status", ""), _score(card), str(frames), card.get("verdict", ""))
    console.print(table)


@app.command()
def show(version: Annotated[str, typer.Argument(help="A version name from `cradle models list`.")]) -> None:
    """A version's card: its scores and the serving model's on the same frames, the labels
    it learnt from, its parent and the gate's verdict."""
    settings = settings_or_exit()
    try:
        found = Registry(settings.models_dir, _family_of(version)).get(version)
    except RegistryError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print_json(json.dumps(found.card(), default=str))
    for picture in sorted(found.folder.glob("*.png")):
        console.print(f"picture: {picture}")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="A version name from `cradle models list`.")],
    why: Annotated[str, typer.Option(help="Recorded in the history.")] = "promoted by hand",
) -> None:
    """Serve VERSION from now on. The gate is not asked: this is a person's choice."""
    settings = settings_or_exit()
    try:
        Registry(settings.models_dir, _family_of(version)).promote(version, why, by="cradle models promote")
    except RegistryError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{version} serves now; the vision workers take it from their next frames.")


@app.command()
def rollback(
    family: Annotated[str | None, typer.Argument(help="mood or caption [the one promoted last]")] = None,
) -> None:
    """Serve again what served before the current version (the demo model at the start)."""
    settings = settings_or_exit()
    family = family or _last_promoted(settings)
    if family not in FAMILIES:
        console.print(f"[red]nothing to roll back{f': no family {family!r}' if family else ''} "
                      f"(families: {', '.join(FAMILIES)})[/]")
        raise typer.Exit(1)
    try:
        back = Registry(settings.models_dir, family).rollback(by="cradle models rollback")
    except RegistryError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{family}: {back.name if back else 'the demo model'} serves again.")


def _last_promoted(settings: Settings) -> str | None:
    stamped = [(h["at"], family) for family in FAMILIES
               for h in Registry(settings.models_dir, family).history() if h["action"] == "promote"]
    serving = [(at, f) for at, f in stamped if Registry(settings.models_dir, f).current() is not None]
    return max(serving)[1] if serving else None


@app.command()
def retrain(
    here: Annotated[bool, typer.Option("--here", help="Train here, not on the training worker.")] = False,
) -> None:
    """A training run now: on the stack's training worker when it runs, else here."""
    from services import teach

    settings = settings_or_exit()
    state = read_state(settings)
    if state and not here:
        from services.tasks import create_celery

        celery = create_celery(settings, state["redis_url"], include=False)
        try:
            task = teach.request(celery, settings, "asked with cradle models retrain")
        finally:
            celery.close()
        console.print(f"queued on the training worker (task {task}); the Teach screen and "
                      "`cradle models list` show how it went")
        return
    with redis_for_cli(settings) as client, console.status("training") as status:
        try:
            outcome = teach.run(settings, client, "asked with cradle models retrain --here",
                              console=console, on_step=lambda step: status.update(step))
        except teach.Busy as exc:
            console.print(f"[yellow]{exc}[/]")
            raise typer.Exit(1) from exc
    for family, said in outcome.get("models", {}).items():
        mark = "[green]promoted[/]" if said.get("promoted") else "[yellow]not promoted[/]"
        console.print(f"{family}: {mark}: {said.get('why')}", highlight=False)
    if outcome.get("error"):
        console.print(f"[red]the run failed: {outcome['error']}[/]")
        raise typer.Exit(1)
