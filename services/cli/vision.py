"""`cradle vision analyse`: the served vision models and safety rules on image files.

It loads exactly what the vision worker serves (the family's checkpoints, else the demo
models) and says, per file, what the worker would publish: the mood and its
probabilities, the caption and its confidence, each model's novelty against what it was
trained on, whether the frame is familiar (to both models), and the hazards it raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress

from services.cli.common import settings_or_exit

app = typer.Typer(help="The vision models as the worker serves them.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
CHUNK = 16  # files per pass (and per step of the progress bar)


def local_time(text: str | None, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """HH:MM today in the family's time zone (now when None); ValueError when malformed."""
    today = (now or datetime.now(zone)).astimezone(zone)
    if text is None:
        return today
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(f"--at takes a time of day as HH:MM (e.g. 23:30), not {text!r}")
    return datetime.combine(today.date(), time(int(found[1]), int(found[2])), tzinfo=zone)


def _model_fields(prefix: str, result: Any, known: Any) -> dict[str, Any]:
    return {f"{prefix}_novelty": None if result.novelty is None else round(result.novelty, 4),
            f"{prefix}_threshold": None if known is None else round(known.threshold, 4),
            f"{prefix}_familiar": result.familiar}


def describe(path: Path, analysis: Any, analyser: Any, rules: Any, when: datetime) -> dict[str, Any]:
    """One file's analysis as a JSON-ready dict (`error` set when it could not be read)."""
    from models.caption.serve import Caption
    from models.mood.serve import MoodFailure
    from models.vision import hazards

    row: dict[str, Any] = {"file": str(path)}
    if isinstance(analysis.mood, MoodFailure):
        return {**row, "error": analysis.mood.error, "mood": None, "caption": None, "familiar": False,
                "hazards": []}
    mood = analysis.mood
    row.update(mood=mood.mood, probabilities={k: round(v, 4) for k, v in mood.probabilities.items()},
               **_model_fields("mood", mood, analyser.mood.model.familiarity))
    caption = analysis.caption
    if isinstance(caption, Caption):
        assert analyser.captioner is not None
        row.update(caption=caption.text, caption_confidence=round(caption.confidence, 4),
                   **_model_fields("caption", caption, analyser.captioner.model.familiarity))
    else:
        row["caption"] = None
    row["familiar"] = analysis.familiar
    row["hazards"] = [hazard.kind for hazard in hazards(analysis, rules, when)]
    return row


def _print(row: dict[str, Any]) -> None:
    console.print(f"[bold]{row['file']}[/]", highlight=False)
    if row.get("error"):
        console.print(f"  [red]cannot analyse: {row['error']}[/]", highlight=False)
        return
    probabilities = ", ".join(f"{k} {v:.2f}" for k, v in row["probabilities"].items())
    console.print(f"  mood     {row['mood']} ({probabilities})", highlight=False)
    console.print(f"           {_familiarity(row, 'mood')}", highlight=False)
    if row["caption"] is not None:
        console.print(f"  caption  “{row['caption']}” (confidence {row['caption_confidence']:.2f})",
                      highlight=False)
        console.print(f"           {_familiarity(row, 'caption')}", highlight=False)
    if row["familiar"]:
        console.print("  familiar [green]yes[/]: the models were taught views like this one")
    else:
        console.print("  familiar [yellow]no[/]: this view is new to Cradle, so nothing it shows "
                      "raises an alert or counts as a mood; teach it in the app")
    console.print(f"  hazards  {', '.join(row['hazards']) or 'none'}", highlight=False)


def _familiarity(row: dict[str, Any], prefix: str) -> str:
    novelty, threshold = row[f"{prefix}_novelty"], row[f"{prefix}_threshold"]
    if novelty is None:
        return "novelty unknown: this model carries no familiarity statistics (train it again)"
    verdict = "familiar" if row[f"{prefix}_familiar"] else "unfamiliar"
    return f"novelty {novelty:.3f} ({verdict}; familiar up to {threshold:.3f})"


@app.command()
def analyse(
    files: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, ...).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    at: Annotated[str | None, typer.Option(help="Local time of day for the rules, HH:MM [now].")] = None,
) -> None:
    """Run the served mood and caption models and the safety rules on image files."""
    from models.caption.safety import DEFAULT_RULES, RuleError, load_rules
    from models.vision import load_analyser

    settings = settings_or_exit()
    try:
        when = local_time(at, settings.family.zone)
        models = settings.models
        rules = load_rules(models.safety_rules or DEFAULT_RULES, periods={"night": settings.family.night})
        analyser = load_analyser(settings.models_dir, models.mood_checkpoint, models.caption_checkpoint,
                                 device=models.device, beam_size=models.caption_beam,
                                 max_batch=models.vision_batch)
    except (ValueError, RuleError, FileNotFoundError) as exc:
        err.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    rows = _analyse_all(files, analyser, rules, when)
    for row in rows:
        if as_json:
            print(json.dumps(row))
        else:
            _print(row)
    if any(row.get("error") for row in rows):
        raise typer.Exit(1)


def _analyse_all(files: Sequence[Path], analyser: Any, rules: Any, when: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with Progress(console=err, transient=True, disable=len(files) <= CHUNK) as progress:
        task = progress.add_task("analysing", total=len(files))
        for first in range(0, len(files), CHUNK):
            chunk = list(files[first:first + CHUNK])
            analyses = analyser.analyse(chunk)
            rows += [describe(p, a, analyser, rules, when) for p, a in zip(chunk, analyses, strict=True)]
            progress.advance(task, len(chunk))
    return rows
