"""Training the mood classifier: `fit` runs both stages, `main(args)` a whole run.

A run writes into its folder: `last.pt` (everything needed to resume after a crash),
`best.pt` (the weights with the lowest validation loss so far), `mood.pt` (the final
model with its metrics and the familiarity statistics of its training photos: serve
this one), `history.json` + `history.png`, and `split.json` (which photos went where,
so `cradle mood eval` can score the held-out ones later).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from models import checkpoints, familiarity
from models.backbones import Weights
from models.familiarity import Familiarity, FamiliarityConfig
from models.mood.config import MoodConfig, TrainConfig
from models.mood.data import (
    GroupBy,
    MoodDataset,
    Sample,
    balanced_sampler,
    check_images,
    class_counts,
    class_weights,
    load_samples,
    split_samples,
    write_split,
)
from models.mood.evaluation import evaluate_model, write_report
from models.mood.loops import Precision, evaluate, extract_features, train_one_epoch
from models.mood.model import MoodNet, build_model, save_model
from models.mood.plots import history_plot
from models.mood.stages import make_optimizer, make_scheduler, set_stage
from models.transforms import eval_transform, train_transform


def progress_bar(console: Console | None = None) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f} acc {task.fields[acc]:.1%}"),
        TimeElapsedColumn(), console=console, transient=True,
        disable=console is None,
    )


def make_loader(
    samples: Sequence[Sample], classes: Sequence[str], config: TrainConfig, size: int, *,
    train: bool, seed: int = 0,
) -> DataLoader:
    augmented = train and config.augment is not None
    transform = train_transform(size, config.augment) if augmented else eval_transform(size)
    dataset = MoodDataset(samples, classes, transform)
    sampler = balanced_sampler(samples, seed) if train and config.balance == "sampler" else None
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=config.batch_size, shuffle=train and sampler is None,
                      sampler=sampler, generator=generator, num_workers=config.num_workers,
                      drop_last=train and len(dataset) > config.batch_size)


def loss_function(
    samples: Sequence[Sample], classes: Sequence[str], config: TrainConfig, device: torch.device
) -> nn.CrossEntropyLoss:
    weight = class_weights(samples, classes).to(device) if config.balance == "loss" else None
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)


@dataclass
class _Run:
    """What every stage of one `fit` shares."""

    model: MoodNet
    train: Sequence[Sample]
    val: Sequence[Sample]
    config: TrainConfig
    out_dir: Path
    precision: Precision
    loss_fn: nn.Module
    bar: Progress
    console: Console | None
    history: list[dict[str, Any]]
    best_loss: float
    cache: tuple[DataLoader, DataLoader] | None = None  # stage-1 feature loaders


def fit(
    model: MoodNet,
    train: Sequence[Sample],
    val: Sequence[Sample],
    config: TrainConfig,
    out_dir: Path,
    *,
    device: torch.device | None = None,
    console: Console | None = None,
    resume: bool = True,
) -> list[dict[str, Any]]:
    """Stage 1 then stage 2 with early stopping; returns the per-epoch history.

    Resumes from `out_dir/last.pt` when it exists and `resume` is set; ends with the
    best weights (lowest validation loss) loaded into `model`."""
    device = device or checkpoints.default_device()
    precision = Precision.for_device(device, config.amp, config.channels_last)
    model.to(device)
    if precision.channels_last:
        model.to(memory_format=torch.channels_last)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = _load_state(out_dir / "last.pt", model, config) if resume else None
    with progress_bar(console) as bar:
        run = _Run(model, train, val, config, out_dir, precision,
                   loss_function(train, model.config.classes, config, device), bar, console,
                   state["history"] if state else [], state["best_loss"] if state else math.inf)
        for stage, epochs in ((1, config.head_epochs), (2, config.finetune_epochs)):
            if epochs == 0 or (state and stage < state["stage"]):
                continue
            _fit_stage(run, stage, epochs, state if state and state["stage"] == stage else None)
            state = None
            if (out_dir / "best.pt").is_file():
                best = torch.load(out_dir / "best.pt", map_location=device, weights_only=True)
                model.load_state_dict(best["state_dict"])
    return run.history


def _fit_stage(run: _Run, stage: int, epochs: int, state: dict[str, Any] | None) -> None:
    model, config, classes = run.model, run.config, run.model.config.classes
    set_stage(model, stage, config)
    cached = stage == 1 and config.cache_features
    if cached and run.cache is None:
        run.cache = _feature_loaders(model, run.train, run.val, config, run.precision)
    net: nn.Module = model.head if cached else model  # cached features skip the backbone
    val_loader = make_loader(run.val, classes, config, model.config.image_size, train=False)
    steps = len(make_loader(run.train, classes, config, model.config.image_size, train=True))
    optimizer = make_optimizer(model, stage, config)
    scheduler = make_scheduler(optimizer, config, epochs, len(run.cache[0]) if cached and
                               run.cache else steps)
    scaler = torch.amp.GradScaler(run.precision.device.type, enabled=run.precision.amp)
    first, bad_epochs = 0, 0
    if state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        first, bad_epochs = state["next_epoch"], state["bad_epochs"]
    if bad_epochs >= config.patience:
        first = epochs  # this stage had already stopped early before the interruption
    for epoch in range(first, epochs):
        index = len(run.history)
        torch.manual_seed(config.seed * 1000 + index)  # augmentation, reproducible on resume
        size = _size_for(stage, epoch, epochs, config, model.config.image_size)
        train_loader, val_batches = run.cache if cached and run.cache else (
            make_loader(run.train, classes, config, size, train=True, seed=config.seed + index),
            val_loader)
        task = run.bar.add_task(f"stage {stage} epoch {epoch + 1}/{epochs} ({size}px)",
                                total=len(train_loader.dataset), loss=0.0, acc=0.0)  # type: ignore[arg-type]
        fitted = train_one_epoch(
            net, train_loader, optimizer, run.loss_fn, run.precision, scheduler=scheduler,
            scaler=scaler, on_batch=lambda n, loss, acc: run.bar.update(
                task, advance=n, loss=loss, acc=acc))  # noqa: B023
        run.bar.remove_task(task)
        scored = evaluate(net, val_batches, run.loss_fn, run.precision)
        if not isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR):
            scheduler.step(scored["loss"])
        run.history.append({
            "epoch": index, "stage": stage, "size": size, "lr": optimizer.param_groups[-1]["lr"],
            "train_loss": fitted["loss"], "train_accuracy": fitted["accuracy"],
            "val_loss": scored["loss"], "val_accuracy": scored["accuracy"],
            "images_per_s": fitted["images_per_s"],
        })
        if run.console:
            run.console.print(f"stage {stage} epoch {epoch + 1}: train loss {fitted['loss']:.3f}"
                              f" · val loss {scored['loss']:.3f} acc {scored['accuracy']:.1%}")
        if scored["loss"] < run.best_loss:
            run.best_loss, bad_epochs = scored["loss"], 0
            save_model(model, run.out_dir / "best.pt", train=config, metrics=run.history[-1])
        else:
            bad_epochs += 1
        _save_state(run, stage, epoch + 1, bad_epochs, optimizer, scheduler, scaler)
        if bad_epochs >= config.patience:
            if run.console:
                run.console.print(f"stage {stage}: no better validation loss for {bad_epochs} "
                                  "epochs; stopping early")
            break


def _size_for(stage: int, epoch: int, epochs: int, config: TrainConfig, final: int) -> int:
    sizes = config.progressive_sizes
    if stage == 1 or not sizes:
        return final
    return sizes[min(len(sizes) - 1, epoch * len(sizes) // epochs)]


def _feature_loaders(
    model: MoodNet, train: Sequence[Sample], val: Sequence[Sample], config: TrainConfig,
    precision: Precision,
) -> tuple[DataLoader, DataLoader]:
    """Stage-1 shortcut: the frozen backbone sees each image once (without augmentation)."""
    classes, size = model.config.classes, model.config.image_size
    loaders = []
    for samples, shuffle in ((train, True), (val, False)):
        plain = make_loader(samples, classes, config, size, train=False)
        features, labels = extract_features(model, plain, precision)  # (N,C), (N,)
        generator = torch.Generator().manual_seed(config.seed)
        dataset = TensorDataset(features.to(precision.device), labels)
        sampler = balanced_sampler(samples, config.seed) if shuffle and (
            config.balance == "sampler") else None
        loaders.append(DataLoader(dataset, batch_size=config.batch_size, sampler=sampler,
                                  shuffle=shuffle and sampler is None, generator=generator))
    return loaders[0], loaders[1]


def _save_state(run: _Run, stage: int, next_epoch: int, bad_epochs: int,
                optimizer: torch.optim.Optimizer, scheduler: Any,
                scaler: torch.amp.GradScaler) -> None:
    state = {
        "config": run.model.config.to_dict(), "train": run.config.to_dict(), "stage": stage,
        "next_epoch": next_epoch, "bad_epochs": bad_epochs, "best_loss": run.best_loss,
        "history": run.history, "model": run.model.state_dict(),
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
    }
    checkpoints.write(state, run.out_dir / "last.pt")  # an interruption never leaves half a file


def _load_state(path: Path, model: MoodNet, config: TrainConfig) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != model.config.to_dict() or state["train"] != config.to_dict():
        raise ValueError(f"{path} is from a run with other settings: use another output "
                         "folder, or pass --no-resume to start again")
    model.load_state_dict(state["model"])
    return dict(state)


@dataclass(frozen=True)
class TrainArgs:
    data: Path  # a folder per class, or a CSV manifest
    out_dir: Path  # where checkpoints, history and plots go
    model: MoodConfig = field(default_factory=MoodConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    weights: Weights = "imagenet"  # backbone weights: "imagenet", a file, or None (random)
    weights_dir: Path | None = None  # the models folder holding backbones/
    split_by: GroupBy = "session"  # what never straddles train/val/test: session or day
    val_fraction: float = 0.2  # share of photos (whole sessions) for early stopping
    test_fraction: float = 0.15  # share held out for the final score; 0 scores on val
    resume: bool = True  # continue from out_dir/last.pt when it is there
    device: str | None = None  # "cpu", "cuda", "cuda:1"; None picks CUDA when present
    familiarity: FamiliarityConfig = field(default_factory=FamiliarityConfig)


def fit_familiarity(model: MoodNet, train: Sequence[Sample], held_out: Sequence[Sample],
                    config: TrainConfig, settings: FamiliarityConfig) -> Familiarity:
    """The trained network's pooled features of its training photos (the bank) and the
    threshold that keeps `settings.percentile` % of the held-out photos familiar; each
    photo seen once, without augmentation, as serving sees it."""
    precision = Precision.for_device(next(model.parameters()).device, config.amp, config.channels_last)
    classes, size = model.config.classes, model.config.image_size
    bank, _ = extract_features(model, make_loader(train, classes, config, size, train=False), precision)
    held = (extract_features(model, make_loader(held_out, classes, config, size, train=False),
                             precision)[0] if held_out else torch.zeros(0, bank.shape[1]))
    return familiarity.fit(bank, held, settings, [s.group("session") for s in train])


def main(args: TrainArgs, console: Console | None = None) -> dict[str, Any]:
    """Check the photos, split them, train, score the test split; returns the summary."""
    classes = args.model.classes
    samples, bad = check_images(load_samples(args.data, classes))
    split = split_samples(samples, args.split_by, args.val_fraction, args.test_fraction,
                          args.train.seed)
    counts = {name: class_counts(part, classes) for name, part in
              (("train", split.train), ("val", split.val), ("test", split.test))}
    if console:
        for path, reason in bad:
            console.print(f"[yellow]skipped[/] {path}: {reason}")
        for name, per_class in counts.items():
            console.print(f"{name:>5}: " + ", ".join(f"{k} {v}" for k, v in per_class.items()))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_split(split, args.out_dir / "split.json")
    device = torch.device(args.device) if args.device else checkpoints.default_device()
    torch.manual_seed(args.train.seed)  # the head's first weights: one run is the next run
    model = build_model(args.model, args.weights, weights_dir=args.weights_dir)
    history = fit(model, split.train, split.val, args.train, args.out_dir, device=device,
                  console=console, resume=args.resume)
    (args.out_dir / "history.json").write_text(json.dumps(history, indent=1))
    history_plot(history, args.out_dir / "history.png")
    model.familiarity = fit_familiarity(model, split.train, split.val, args.train, args.familiarity)
    held_out = split.test or split.val
    report = evaluate_model(model, held_out, batch_size=args.train.batch_size)
    write_report(report, args.out_dir / ("test" if split.test else "val"))
    summary = {"accuracy": report.accuracy, "ece": report.ece, "held_out": len(held_out),
               "split": "test" if split.test else "val", "counts": counts,
               "skipped": [str(p) for p, _ in bad], "epochs": len(history),
               "familiarity": {**model.familiarity.describe(),
                               "familiar_held_out": report.familiar}}
    head_only = args.train.finetune_epochs == 0 and args.weights == "imagenet"
    final = save_model(model, args.out_dir / "mood.pt", train=args.train, metrics=summary,
                       head_only=head_only)
    summary["checkpoint"] = str(final)
    summary["model_version"] = checkpoints.version(final)
    return summary
