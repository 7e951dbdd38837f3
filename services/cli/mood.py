"""`cradle mood`: make, train, score and clean the mood classifier.

DATA is a folder per class (`<label>/[<session>/]*.jpg`) or a CSV manifest
(`path,label,captured_at,session`). Weights and checkpoints live in the models folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from models.mood.config import MOODS, MoodConfig, TrainConfig
from services.cli.common import settings_or_exit

app = typer.Typer(help="The mood classifier: synthetic data, training, evaluation.",
                  no_args_is_help=True)
console = Console()

Data = Annotated[Path, typer.Argument(help="A folder per class, or a CSV manifest.")]
Classes = Annotated[str, typer.Option(help="Comma-separated class names, in logit order.")]
ImageSize = Annotated[int, typer.Option(help="Side of the square crop the network sees.")]


@contextmanager
def _explained() -> Iterator[None]:
    """Bad data, missing weights or a clashing run end with the reason, not a traceback."""
    try:
        yield
    except (ValueError, FileNotFoundError) as exc:  # DataError, BackboneWeightsError among them
        console.print(f"[bold red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc


def _classes(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if len(names) < 2:
        raise typer.BadParameter("give at least two classes, e.g. feed,happy,upset,sleep")
    return names


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the faces into.")],
    per_class: Annotated[int, typer.Option(min=1)] = 100,
    sessions: Annotated[int, typer.Option(min=2, help="Photo sessions (two a day).")] = 24,
    size: Annotated[int, typer.Option(min=32, max=1024)] = 176,
    seed: int = 0,
    imbalance: Annotated[float, typer.Option(min=0.0, max=0.95)] = 0.0,
) -> None:
    """Draw synthetic cartoon baby faces (not real data) with a CSV manifest."""
    from models.mood.synth import synthesize

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("drawing faces", total=per_class * len(MOODS))
        manifest = synthesize(out, per_class=per_class, sessions=sessions, size=size, seed=seed,
                              imbalance=imbalance, on_image=lambda: progress.advance(task))
    console.print(f"wrote {manifest}")


@app.command()
def train(
    data: Data,
    out: Annotated[Path | None, typer.Option(help="Run folder [models/mood/run].")] = None,
    classes: Classes = ",".join(MOODS),
    backbone: str = "mobilenet_v2",
    weights: Annotated[Path | None, typer.Option(help="Backbone weights file.")] = None,
    random_init: Annotated[bool, typer.Option(help="Random backbone (no ImageNet).")] = False,
    image_size: ImageSize = 224,
    batch_size: int = 32,
    head_epochs: int = 5,
    finetune_epochs: int = 5,
    head_lr: float = 3e-3,
    finetune_lr: float = 3e-4,
    lr_ratio: float = 0.3,
    schedule: Annotated[str, typer.Option(help="onecycle or plateau")] = "onecycle",
    balance: Annotated[str, typer.Option(help="loss, sampler or none")] = "loss",
    split_by: Annotated[str, typer.Option(help="session or day")] = "session",
    augment: bool = True,
    progressive: Annotated[str, typer.Option(help="Stage-2 sizes, e.g. 128,160,224.")] = "",
    cache_features: bool = False,
    patience: int = 3,
    resume: bool = True,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 [auto]")] = None,
    seed: int = 0,
) -> None:
    """Train in two stages (frozen backbone, then discriminative fine-tuning)."""
    from models.mood.training import TrainArgs, main
    from models.transforms import Augment

    models_dir = settings_or_exit().models_dir
    for value, allowed in ((schedule, ("onecycle", "plateau")),
                           (balance, ("loss", "sampler", "none")),
                           (split_by, ("session", "day"))):
        if value not in allowed:
            raise typer.BadParameter(f"{value!r}: choose one of {', '.join(allowed)}")
    training = TrainConfig(
        batch_size=batch_size, head_epochs=head_epochs, finetune_epochs=finetune_epochs,
        head_lr=head_lr, finetune_lr=finetune_lr, lr_ratio=lr_ratio,
        schedule=schedule,  # type: ignore[arg-type]
        balance=balance,  # type: ignore[arg-type]
        augment=Augment() if augment else None, cache_features=cache_features,
        progressive_sizes=tuple(int(s) for s in progressive.split(",") if s),
        patience=patience, seed=seed,
    )
    args = TrainArgs(
        data=data, out_dir=out or models_dir / "mood" / "run",
        model=MoodConfig(classes=_classes(classes), backbone=backbone, image_size=image_size),
        train=training, weights=None if random_init else (weights or "imagenet"),
        weights_dir=models_dir, split_by=split_by,  # type: ignore[arg-type]
        resume=resume, device=device,
    )
    with _explained():
        summary = main(args, console)
    console.print(f"held-out ({summary['split']}) accuracy {summary['accuracy']:.1%}, "
                  f"ECE {summary['ece']:.3f}; model at [bold]{summary['checkpoint']}[/]")


@app.command("lr-find")
def lr_find(
    data: Data,
    out: Annotated[Path, typer.Option(help="Where the loss-vs-LR plot goes.")] = Path("lr.png"),
    stage: Annotated[int, typer.Option(min=1, max=2, help="1: head only; 2: all layers.")] = 1,
    classes: Classes = ",".join(MOODS),
    backbone: str = "mobilenet_v2",
    image_size: ImageSize = 224,
    batch_size: int = 32,
    steps: int = 80,
) -> None:
    """Sweep the learning rate and suggest one (saves the loss-vs-LR plot)."""
    import torch

    from models.checkpoints import default_device
    from models.mood.data import check_images, load_samples
    from models.mood.loops import Precision
    from models.mood.lr_finder import find_lr
    from models.mood.model import build_model
    from models.mood.stages import make_optimizer, set_stage
    from models.mood.training import loss_function, make_loader

    models_dir = settings_or_exit().models_dir
    config = MoodConfig(classes=_classes(classes), backbone=backbone, image_size=image_size)
    training = TrainConfig(batch_size=batch_size)
    with _explained():
        samples, _ = check_images(load_samples(data, config.classes))
        model = build_model(config, weights_dir=models_dir).to(default_device())
    device = default_device()
    set_stage(model, stage, training)
    precision = Precision.for_device(device, training.amp, training.channels_last)
    with console.status(f"sweeping learning rates over {steps} batches"):
        finding = find_lr(model, make_loader(samples, config.classes, training, image_size,
                                             train=True),
                          make_optimizer(model, stage, training),
                          loss_function(samples, config.classes, training, torch.device(device)),
                          precision, steps=steps)
    finding.plot(out)
    console.print(f"suggested {'head' if stage == 1 else 'fine-tuning'} learning rate "
                  f"[bold]{finding.suggestion:.2g}[/]; plot at {out}")


@app.command("eval")
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="A mood checkpoint (.pt).")],
    data: Annotated[Path, typer.Argument(help="Labelled photos, or a run's split.json.")],
    part: Annotated[str, typer.Option(help="train, val or test, of a split.json.")] = "test",
    out: Annotated[Path, typer.Option(help="Folder for metrics and plots.")] = Path("mood-eval"),
) -> None:
    """Accuracy, per-class P/R/F1, confusion matrix, calibration, worst photos."""
    from models.mood.data import check_images, load_samples, read_split
    from models.mood.evaluation import confusion_text, evaluate_model, write_report
    from models.mood.model import load_model

    with _explained():
        model = load_model(checkpoint, weights_dir=settings_or_exit().models_dir)
        classes = model.config.classes
        is_split = data.suffix == ".json"
        samples = getattr(read_split(data), part) if is_split else load_samples(data, classes)
    samples, bad = check_images(samples)
    for path, reason in bad:
        console.print(f"[yellow]skipped[/] {path}: {reason}")
    with console.status(f"scoring {len(samples)} photos"):
        report = evaluate_model(model, samples)
    write_report(report, out)
    table = Table("class", "precision", "recall", "F1", "photos")
    for name, row in report.per_class.items():
        table.add_row(name, f"{row['precision']:.2f}", f"{row['recall']:.2f}",
                      f"{row['f1']:.2f}", str(row["support"]))
    console.print(table)
    console.print(confusion_text(report))
    console.print(f"accuracy {report.accuracy:.1%}, ECE {report.ece:.3f}")
    for row in report.worst[:5]:
        console.print(f"  {row['path']}: {row['label']} taken for {row['predicted']} "
                      f"(p={row['label_probability']:.2f})")
    console.print(f"report in {out}/")


@app.command()
def audit(
    data: Data,
    checkpoint: Annotated[Path | None, typer.Option(
        help="Features from this model [the ImageNet backbone].")] = None,
    out: Annotated[Path, typer.Option(help="CSV of every photo, worst first.")] = Path(
        "mood-audit.csv"),
    classes: Classes = ",".join(MOODS),
    split_by: Annotated[str, typer.Option(help="session or day")] = "session",
    folds: Annotated[int, typer.Option(min=2)] = 5,
    top: int = 15,
) -> None:
    """Rank photos by how strongly out-of-fold predictions disagree with their label."""
    from models.checkpoints import default_device
    from models.mood.audit import audit as rank
    from models.mood.audit import write_audit
    from models.mood.data import check_images, load_samples
    from models.mood.model import build_model, load_model

    models_dir = settings_or_exit().models_dir
    with _explained():
        if checkpoint:
            model = load_model(checkpoint, weights_dir=models_dir)
        else:
            model = build_model(MoodConfig(classes=_classes(classes)), weights_dir=models_dir)
            model.to(default_device())
        samples, bad = check_images(load_samples(data, model.config.classes))
    for path, reason in bad:
        console.print(f"[yellow]skipped[/] {path}: {reason}")
    with console.status(f"auditing {len(samples)} photos in {folds} folds"), _explained():
        suspects = rank(model, samples, by=split_by, folds=folds)  # type: ignore[arg-type]
    write_audit(suspects, out)
    table = Table("photo", "label", "model says", "p(label)")
    for suspect in suspects[:top]:
        table.add_row(str(suspect.path), suspect.label, suspect.suggested,
                      f"{suspect.label_probability:.2f}")
    console.print(table)
    console.print(f"all {len(suspects)} photos ranked in {out}")


@app.command()
def demo(
    images: Annotated[int, typer.Option(min=40, help="Synthetic scenes to draw.")] = 1400,
    seed: int = 0,
) -> None:
    """Build the demo model from synthetic nursery scenes (models/mood/demo.pt, about a minute)."""
    from models.mood.demo import build_demo

    with _explained():
        summary = build_demo(settings_or_exit().models_dir, images=images, seed=seed,
                             console=console)
    console.print(f"demo model at [bold]{summary['checkpoint']}[/]: held-out accuracy "
                  f"{summary['accuracy']:.1%} on synthetic scenes, "
                  f"{summary['familiarity']['familiar_held_out']:.0%} of them familiar "
                  f"({summary['seconds']} s)")
