"""`cradle caption`: synthetic scenes, training, evaluation, the demo model, describing a frame.

DATA is a captions file: COCO captions JSON, Flickr8k captions.txt / token file, or a
CSV `image,caption[,session]`. Checkpoints live in the models folder (`caption/`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from models.caption.config import CaptionConfig, TrainConfig
from services.cli.common import settings_or_exit

app = typer.Typer(help="The scene captioner: synthetic scenes, training, evaluation.",
                  no_args_is_help=True)
console = Console()

Data = Annotated[Path, typer.Argument(help="Captions file: COCO JSON, Flickr8k, or CSV.")]
Images = Annotated[Path | None, typer.Option(help="Image folder [beside the captions file].")]
Checkpoint = Annotated[Path | None, typer.Option(help="A caption checkpoint [caption/demo.pt].")]


def _checkpoint(path: Path | None, models_dir: Path) -> Path:
    from models.caption.demo import demo_path

    return path or demo_path(models_dir)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the scenes into.")],
    images: Annotated[int, typer.Option(min=7)] = 1400,
    sessions: Annotated[int, typer.Option(min=3, help="Rooms (camera sessions).")] = 40,
    size: Annotated[int, typer.Option(min=64, max=1024)] = 176,
    seed: int = 0,
) -> None:
    """Draw synthetic nursery scenes (not real data) with a captions CSV."""
    from models.scenes import synthesize

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("drawing scenes", total=images)
        path = synthesize(out, images=images, sessions=sessions, size=size, seed=seed,
                          on_image=lambda: progress.advance(task))
    console.print(f"wrote {path}")


@app.command()
def train(
    data: Data,
    images: Images = None,
    out: Annotated[Path | None, typer.Option(help="Run folder [models/caption/run].")] = None,
    image_size: int = 160,
    finetune: Annotated[bool, typer.Option(help="Train the backbone too (no sharing).")] = False,
    attention: Annotated[bool, typer.Option(help="Soft attention (Show, Attend and Tell).")] = False,
    embed_size: int = 128,
    hidden_size: int = 256,
    layers: int = 1,
    dropout: float = 0.3,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 3e-3,
    label_smoothing: float = 0.0,
    patience: int = 5,
    min_word_count: int = 2,
    split_by: Annotated[str, typer.Option(help="session or image")] = "session",
    resume: bool = True,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 [auto]")] = None,
    seed: int = 0,
) -> None:
    """Train with teacher forcing; keeps the epoch with the best validation BLEU-4."""
    from models.backbones import BackboneWeightsError
    from models.caption.data import DataError
    from models.caption.training import ResumeError, TrainArgs, main

    if split_by not in ("session", "image"):
        raise typer.BadParameter(f"{split_by!r}: choose session or image")
    models_dir = settings_or_exit().models_dir
    args = TrainArgs(
        data=data, images=images, out_dir=out or models_dir / "caption" / "run",
        model=CaptionConfig(image_size=image_size, freeze_backbone=not finetune, attention=attention,
                            embed_size=embed_size, hidden_size=hidden_size, num_layers=layers,
                            dropout=dropout),
        train=TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, label_smoothing=label_smoothing,
                          patience=patience, min_word_count=min_word_count,
                          split_by=split_by, seed=seed),  # type: ignore[arg-type]
        weights_dir=models_dir, resume=resume, device=device,
    )
    try:
        metrics = main(args, console)
    except (DataError, ResumeError, BackboneWeightsError) as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"held-out BLEU-4 {metrics['bleu4']:.3f} (BLEU-1 {metrics['bleu1']:.3f}); "
                  f"model at [bold]{metrics['checkpoint']}[/]")


@app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Argument(help="A captions file, or a run's split.json.")],
    checkpoint: Checkpoint = None,
    images: Images = None,
    part: Annotated[str, typer.Option(help="train, val or test, of a split.json.")] = "test",
    beam_size: int = 3,
    out: Annotated[Path, typer.Option(help="Folder for metrics and the sample sheet.")] = Path(
        "caption-eval"),
    samples: Annotated[int, typer.Option(help="Images on the sample sheet.")] = 12,
) -> None:
    """BLEU-1..4 and a sample sheet (images with predicted and reference captions)."""
    from models.caption.data import CaptionedImage, load_captions
    from models.caption.evaluation import bleu_scores, sample_sheet
    from models.caption.serve import Caption, Captioner

    models_dir = settings_or_exit().models_dir
    captioner = Captioner(_checkpoint(checkpoint, models_dir), weights_dir=models_dir,
                          beam_size=beam_size)
    if data.suffix == ".json" and data.name == "split.json":
        rows = json.loads(data.read_text())[part]
        items = [CaptionedImage(Path(r["image"]), tuple(r["captions"]), r["session"]) for r in rows]
    else:
        items = load_captions(data, images)
    with console.status(f"captioning {len(items)} images"):
        results = captioner.describe_paths([i.path for i in items])
    scored = [(i, r) for i, r in zip(items, results, strict=True) if isinstance(r, Caption)]
    for item, result in zip(items, results, strict=True):
        if not isinstance(result, Caption):
            console.print(f"[yellow]skipped[/] {item.path}: {result.error}")
    if not scored:
        raise typer.Exit(1)
    scores = bleu_scores([r.text for _, r in scored], [i.captions for i, _ in scored])
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps({**scores, "images": len(scored), "beam_size": beam_size,
                                                  "model_version": captioner.version}, indent=1))
    shown = scored[:samples]
    sheet = sample_sheet([i.path for i, _ in shown], [r.text for _, r in shown],
                         [i.captions for i, _ in shown], out / "samples.png")
    table = Table("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "images")
    table.add_row(*(f"{scores[f'bleu{n}']:.3f}" for n in range(1, 5)), str(len(scored)))
    console.print(table)
    console.print(f"metrics and sample sheet ({sheet}) in {out}/")


@app.command()
def demo(
    images: Annotated[int, typer.Option(min=140)] = 1400,
    seed: int = 0,
) -> None:
    """Build the demo captioner from synthetic scenes (models/caption/demo.pt, a few minutes)."""
    from models.caption.demo import build_demo

    summary = build_demo(settings_or_exit().models_dir, images=images, seed=seed, console=console)
    console.print(f"demo captioner at [bold]{summary['checkpoint']}[/]: held-out BLEU-4 "
                  f"{summary['bleu4']:.3f}, hazard recall {summary['hazard_recall']:.0%} on "
                  f"synthetic scenes ({summary['seconds']} s)")


@app.command()
def describe(
    image: Annotated[Path, typer.Argument(help="A photo or camera frame.")],
    checkpoint: Checkpoint = None,
    beam_size: int = 3,
    rules: Annotated[Path | None, typer.Option(help="Safety rule file [the shipped one].")] = None,
    at: Annotated[datetime | None, typer.Option(help="When the frame was taken [now].")] = None,
) -> None:
    """Caption one image and show which safety rules it triggers."""
    from models.caption.safety import DEFAULT_RULES, RuleError, load_rules
    from models.caption.serve import Captioner, CaptionFailure

    settings = settings_or_exit()
    models_dir, family = settings.models_dir, settings.family
    try:
        rule_set = load_rules(rules or DEFAULT_RULES,
                              periods={"night": family.night})
        captioner = Captioner(_checkpoint(checkpoint, models_dir), weights_dir=models_dir,
                              beam_size=beam_size)
    except (RuleError, FileNotFoundError, ValueError) as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    result = captioner.describe_paths([image])[0]
    if isinstance(result, CaptionFailure):
        console.print(f"[bold red]{result.error}[/]", highlight=False)
        raise typer.Exit(1)
    console.print(f"[bold]{result.text}[/] (confidence {result.confidence:.2f}, "
                  f"log-prob {result.log_prob:.2f}, model {result.model_version})")
    known = captioner.model.familiarity
    if result.novelty is None or known is None:
        console.print("[yellow]this model carries no familiarity statistics: the vision worker "
                      "raises nothing from it[/]")
    else:
        verdict = ("familiar" if result.familiar
                   else "[yellow]unfamiliar: the vision worker raises nothing from it[/]")
        console.print(f"novelty {result.novelty:.3f} (familiar up to {known.threshold:.3f}): {verdict}")
    for hazard in rule_set.match(result.text, result.confidence, at or datetime.now()):
        console.print(f"[red]{hazard.severity}[/]: {hazard.kind} (rule {hazard.rule}, "
                      f"matched {hazard.matched!r})")
