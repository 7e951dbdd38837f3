"""`cradle chatbot`: train and test the Rasa chatbot (it runs in its own Python 3.10)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services import rasa_eval
from services import rasa_project as project
from services.cli.common import settings_or_exit

app = typer.Typer(help="The Rasa chatbot: train it, test it.", no_args_is_help=True)
console = Console()
REPORTS = Path("var/reports/chatbot-conversations")


@app.command()
def train(
    cache: Annotated[Path | None, typer.Option(help="Folder of trained models kept across clones.")] = None,
    force: Annotated[bool, typer.Option(help="Train even when a model for this data exists.")] = False,
) -> None:
    """Train the model for the current chatbot data (skipped when it exists already)."""
    settings = settings_or_exit()
    started = time.monotonic()
    try:
        with console.status(f"training the chatbot ({project.fingerprint()})"):
            model, trained = project.train(settings, cache=cache, force=force)
    except project.ChatbotError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    took = f" in {time.monotonic() - started:.0f} s" if trained else " (already trained)"
    console.print(f"Chatbot model: {model}{took}")


@app.command()
def test(
    out: Annotated[Path, typer.Option(help="Where the reports go.")] = Path("var/chatbot-test"),
    folds: Annotated[int, typer.Option(min=2, max=10, help="Cross-validation folds.")] = 5,
    cross_validation: Annotated[bool, typer.Option(help="Also cross-validate the NLU (minutes).")] = True,
) -> None:
    """Run the test stories against the trained model and cross-validate the NLU."""
    settings = settings_or_exit()
    try:
        model, _ = project.train(settings)
        with console.status("running the test stories"):
            stories = project.test_stories(settings, model, out / "stories")
        if cross_validation:
            with console.status(f"cross-validating the NLU ({folds} folds)"):
                intents = project.cross_validate(settings, out / "nlu", folds)
    except project.ChatbotError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    failed = stories["failed"]
    console.print(f"Test stories: {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    if cross_validation:
        table = Table("intent", "precision", "recall", "f1", "examples")
        for name, row in sorted(intents.items(), key=lambda kv: kv[0]):
            if isinstance(row, dict) and "f1-score" in row:
                table.add_row(name, f"{row['precision']:.2f}", f"{row['recall']:.2f}",
                              f"{row['f1-score']:.2f}", str(row.get("support", "")))
        console.print(table)
        (out / "nlu" / "summary.json").write_text(json.dumps(intents, indent=2))
    if failed:
        raise typer.Exit(1)


@app.command()
def evaluate(
    out: Annotated[Path, typer.Option(help="Where the reports go.")] = REPORTS,
) -> None:
    """Run the held-out conversations (chatbot/eval/, never trained on) with `rasa test`:
    conversations answered right from first to last turn, intent accuracy, failed turns."""
    settings = settings_or_exit()
    try:
        model, _ = project.train(settings)
        with console.status("running the held-out conversations"):
            report = rasa_eval.with_rasa_test(settings, model, out / "run")
    except project.ChatbotError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    written = report.write(out)
    console.print(f"Conversations right throughout: {report.conversations_correct} / {report.conversations}; "
                  f"intent accuracy {report.intent_accuracy:.3f} over {report.turns} turns")
    table = Table("conversation", "turn", "said", "what went wrong")
    for turn in report.failed:
        table.add_row(turn.conversation, str(turn.turn), turn.said, turn.why)
    if report.failed:
        console.print(table)
    console.print(f"Report: {written}")
