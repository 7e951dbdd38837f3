"""Training the captioner: teacher forcing on packed sequences, early stopping on BLEU-4.

    main(TrainArgs(...)) -> summary      or      python -m models.caption.training DATA OUT

With a frozen backbone its feature maps are computed once and cached, so an epoch only
runs the projection and the LSTM. The best epoch's checkpoint then gets the familiarity
statistics of the training images (models/familiarity.py: the bank from the training
split, the threshold from the validation split) and, when the images carry scene tags,
its multi-label scene head (models/caption/tagging.py). `out_dir` receives best.pt (the checkpoint to serve),
last.pt (to resume: model, optimiser, schedule, history), vocab.json, split.json,
history.json, history.png, metrics.json and test_captions.json (image, caption, confidence).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import Progress
from torch import nn
from torch.utils.data import DataLoader

from models import checkpoints, familiarity
from models.backbones import Weights
from models.caption.config import CaptionConfig, TrainConfig
from models.caption.data import CaptionedImage, CaptionPairs, collate, load_captions, open_rgb, split_images
from models.caption.decoding import decode
from models.caption.evaluation import bleu_scores
from models.caption.model import CaptionNet, Encoded, build_model, save_model
from models.caption.tagging import fit_tagger, targets
from models.caption.vocab import Vocab
from models.familiarity import FamiliarityConfig, pooled
from models.transforms import eval_transform

Batches = Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class ResumeError(ValueError):
    """A run folder whose last.pt was written by a run with other data or settings."""


@dataclass(frozen=True)
class TrainArgs:
    data: Path  # captions file (COCO JSON, Flickr8k, CSV)
    out_dir: Path  # the run folder
    model: CaptionConfig = field(default_factory=CaptionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    images: Path | None = None  # image folder, where not beside the captions file
    weights: Weights = "imagenet"  # backbone weights: "imagenet", a file, or None
    weights_dir: Path | None = None  # the models folder holding backbones/
    resume: bool = True  # continue from out_dir/last.pt when it exists
    device: str | None = None  # cpu, cuda, cuda:1 [auto]
    familiarity: FamiliarityConfig = field(default_factory=FamiliarityConfig)


def encode_inputs(model: CaptionNet, inputs: torch.Tensor, cached: bool) -> Encoded:
    """Cached feature maps (B,C,h,w) or normalised images (B,3,S,S) -> Encoded."""
    return model.caption_features(inputs.float()) if cached else model.encode(inputs)


def train_one_epoch(model: CaptionNet, batches: Batches, optimizer: torch.optim.Optimizer,
                    scheduler: Any, loss_fn: nn.Module, *, cached: bool, clip_norm: float,
                    scaler: torch.amp.GradScaler | None = None,
                    on_batch: Callable[[float], None] | None = None) -> dict[str, float]:
    """One pass of teacher forcing; the one-cycle schedule steps after every batch."""
    model.train()
    device = next(model.parameters()).device
    amp = scaler is not None and scaler.is_enabled()
    total, words, start = 0.0, 0, time.perf_counter()
    for inputs, captions, lengths in batches:
        inputs, captions = inputs.to(device), captions.to(device)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            logits = model(encode_inputs(model, inputs, cached), captions, lengths)  # (B,T-1,V)
            loss = loss_fn(logits.float().flatten(0, 1), captions[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None and amp:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        if scaler is not None and amp:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        n = int((lengths - 1).sum())
        total, words = total + loss.item() * n, words + n
        if on_batch:
            on_batch(total / words)
    return {"loss": total / max(words, 1), "seconds": time.perf_counter() - start}


@torch.inference_mode()
def evaluate(model: CaptionNet, samples: Sequence[CaptionedImage], features: torch.Tensor | None = None,
             *, beam_size: int = 1, batch_size: int = 64) -> dict[str, Any]:
    """Decode every image and score against its references: BLEU-1..4, the captions and
    their confidences.
    `features` are the images' cached backbone maps (N,C,h,w); without them the images
    are read and run through the backbone."""
    model.eval()
    device = next(model.parameters()).device
    transform = eval_transform(model.config.image_size)
    predicted: list[str] = []
    confidences: list[float] = []
    for first in range(0, len(samples), batch_size):
        if features is not None:
            batch = features[first:first + batch_size]  # (B,C,h,w)
        else:
            batch = torch.stack([transform(open_rgb(s.path)) for s in samples[first:first + batch_size]])
        encoded = encode_inputs(model, batch.to(device), features is not None)
        decoded = decode(model, encoded, beam_size)
        predicted += [d.text for d in decoded]
        confidences += [d.confidence for d in decoded]
    scores = bleu_scores(predicted, [s.captions for s in samples])
    return {**scores, "captions": predicted, "confidences": confidences}


@torch.no_grad()
def backbone_features(model: CaptionNet, samples: Sequence[CaptionedImage], batch_size: int = 32,
                      on_batch: Callable[[int], None] | None = None) -> torch.Tensor:
    """Frozen backbone feature maps (N,C,h,w) of every image, float16 on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    transform = eval_transform(model.config.image_size)
    maps = []
    for first in range(0, len(samples), batch_size):
        chunk = samples[first:first + batch_size]
        images = torch.stack([transform(open_rgb(s.path)) for s in chunk]).to(device)  # (B,3,S,S)
        maps.append(model.backbone(images).half().cpu())  # (B,C,h,w)
        if on_batch:
            on_batch(len(chunk))
    return torch.cat(maps)


def pooled_parts(model: CaptionNet, split: Any, cached: dict[str, torch.Tensor | None]
                 ) -> dict[str, torch.Tensor]:
    """The served model's pooled backbone features (N,C) of the train, val and test images;
    cached feature maps are reused when the backbone stayed frozen."""
    def features(part: str) -> torch.Tensor:
        samples = getattr(split, part)
        maps = cached.get(part)
        if maps is None:
            maps = backbone_features(model, samples) if samples else None
        return pooled(maps) if maps is not None else torch.zeros(0, model.project.in_features)

    return {part: features(part) for part in ("train", "val", "test")}


def finish(model: CaptionNet, split: Any, parts: dict[str, torch.Tensor],
           settings: FamiliarityConfig) -> dict[str, Any]:
    """What the best epoch's model learns after the captions: its familiarity (the bank
    from the training images, the threshold from the validation images) and, with scene
    tags, its scene head; returns what to add to its metrics."""
    groups = [s.session or str(s.path) for s in split.train]
    model.familiarity = familiarity.fit(parts["train"], parts["val"], settings, groups)
    found: dict[str, Any] = {"familiarity": {**model.familiarity.describe(), "familiar_held_out": (
        familiarity.share_familiar(model.familiarity, parts["test"]) if split.test else None)}}
    if model.config.tags:
        tags = model.config.tags
        found["tags"] = fit_tagger(model, parts["train"], targets(split.train, tags), parts["val"],
                                   targets(split.val, tags), seed=0)
    return found


def _optimizer(model: CaptionNet, train: TrainConfig, steps: int) -> tuple[torch.optim.Optimizer, Any]:
    backbone = [p for p in model.backbone.parameters() if p.requires_grad]
    ids = {id(p) for p in backbone}
    head = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    rates = [train.lr, train.backbone_lr][: 1 + bool(backbone)]
    groups = [{"params": params, "lr": lr} for params, lr in zip([head, backbone], rates, strict=False)]
    optimizer = torch.optim.AdamW(groups, weight_decay=train.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=rates, total_steps=max(steps, 1))
    return optimizer, scheduler


def _plot(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    figure, left = plt.subplots(figsize=(6, 3.5))
    left.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", label="train loss")
    left.set_xlabel("epoch")
    left.set_ylabel("train loss (per word)")
    right = left.twinx()
    right.plot(epochs, [h["val_bleu4"] for h in history], "s-", color="tab:orange", label="val BLEU-4")
    right.set_ylabel("validation BLEU-4")
    figure.legend(loc="upper center", ncols=2, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _write_split(split: Any, path: Path) -> None:
    path.write_text(json.dumps({part: [{"image": str(s.path), "captions": list(s.captions),
                                        "session": s.session} for s in getattr(split, part)]
                                for part in ("train", "val", "test")}, indent=1))


def main(args: TrainArgs, console: Console | None = None) -> dict[str, Any]:
    """Train, keep the best epoch by validation BLEU-4, score it on the test images."""
    train, config, out = args.train, args.model, Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(train.seed)
    device = torch.device(args.device) if args.device else checkpoints.default_device()
    split = split_images(load_captions(args.data, args.images), train.val_fraction,
                         train.test_fraction, train.split_by, train.seed)
    _write_split(split, out / "split.json")
    vocab = Vocab.build((c for s in split.train for c in s.captions), train.min_word_count)
    vocab.save(out / "vocab.json")
    model = build_model(config, vocab, args.weights, weights_dir=args.weights_dir).to(device)
    cached = config.freeze_backbone and train.cache_features
    quiet = console is None
    feats: dict[str, torch.Tensor | None]
    with Progress(console=console or Console(quiet=True), transient=True, disable=quiet) as progress:
        if cached:
            images = len(split.train) + len(split.val) + len(split.test)
            task = progress.add_task("backbone features (once)", total=images)
            feats = {part: backbone_features(model, getattr(split, part),
                                             on_batch=lambda n: progress.advance(task, n))
                     if getattr(split, part) else None for part in ("train", "val", "test")}
            progress.remove_task(task)
            pairs = CaptionPairs(split.train, vocab, feats["train"], max_length=config.max_length)
        else:
            transform = eval_transform(config.image_size)
            pairs = CaptionPairs(split.train, vocab, None, transform, config.max_length)
            feats = {"val": None, "test": None}
        loader = DataLoader(pairs, train.batch_size, shuffle=True, collate_fn=collate,
                            num_workers=0 if cached else train.num_workers,
                            generator=torch.Generator().manual_seed(train.seed))
        optimizer, scheduler = _optimizer(model, train, train.epochs * len(loader))
        scaler = torch.amp.GradScaler(device.type, enabled=train.amp and device.type == "cuda")
        loss_fn = nn.CrossEntropyLoss(ignore_index=vocab.pad, label_smoothing=train.label_smoothing)
        history: list[dict[str, float]] = []
        best, stale, first_epoch = -1.0, 0, 1
        resume_path = out / "last.pt"
        if args.resume and resume_path.is_file():
            state = torch.load(resume_path, map_location=device, weights_only=True)
            if (state["vocab"], state["config"], state.get("train")) != (vocab.to_dict(), config.to_dict(),
                                                                     train.to_dict()):
                raise ResumeError(f"{resume_path} belongs to a run with other data or settings; "
                                 "train with resume off (`--no-resume`) or into another folder")
            if state["history"]:
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
                history, stale = state["history"], state["stale"]
                best = state["best"] if (out / "best.pt").is_file() else -1.0
                first_epoch = len(history) + 1
        for epoch in range(first_epoch, train.epochs + 1):
            if stale >= train.patience:
                break
            label = f"epoch {epoch}/{train.epochs}"
            task = progress.add_task(label, total=len(loader))

            def advance(loss: float, task: Any = task, label: str = label) -> None:
                progress.update(task, advance=1, description=f"{label} loss {loss:.3f}")

            stats = train_one_epoch(model, loader, optimizer, scheduler, loss_fn, cached=cached,
                                    clip_norm=train.clip_norm, scaler=scaler, on_batch=advance)
            progress.remove_task(task)
            val = evaluate(model, split.val, feats["val"])
            history.append({"epoch": epoch, "loss": stats["loss"], "seconds": stats["seconds"],
                            **{f"val_{k}": v for k, v in val.items() if k.startswith("bleu")}})
            if val["bleu4"] > best:
                best, stale = val["bleu4"], 0
                save_model(model, out / "best.pt", train=train.to_dict(), metrics=history[-1])
            else:
                stale += 1
            if console:
                console.print(f"epoch {epoch}: loss {stats['loss']:.3f}, val BLEU-4 {val['bleu4']:.3f}"
                              f"{' (best)' if stale == 0 else ''}")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "history": history, "best": best,
                        "stale": stale, "vocab": vocab.to_dict(), "config": config.to_dict(),
                        "train": train.to_dict()},
                       resume_path)
    (out / "history.json").write_text(json.dumps(history, indent=1))
    if history:
        _plot(history, out / "history.png")
    from models.caption.model import load_model

    best_model = load_model(out / "best.pt", device, weights_dir=args.weights_dir)
    reused = feats if config.freeze_backbone else {}
    learnt = finish(best_model, split, pooled_parts(best_model, split, reused), args.familiarity)
    kept = torch.load(out / "best.pt", map_location="cpu", weights_only=True)
    save_model(best_model, out / "best.pt", train=kept.get("train"), metrics={**kept["metrics"], **learnt})
    best_model = load_model(out / "best.pt", device, weights_dir=args.weights_dir)
    scored = "test" if split.test else "val"  # no test split: the family keeps its own aside
    held_out = getattr(split, scored)
    test = evaluate(best_model, held_out, feats[scored])
    metrics = {"split": scored, "images": len(held_out), **{k: v for k, v in test.items()
                                                           if k.startswith("bleu")},
               "epochs": len(history), "best_val_bleu4": best, "vocab_size": len(vocab),
               "train_images": len(split.train), "checkpoint": str(out / "best.pt"),
               "model_version": best_model.version, **learnt}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "test_captions.json").write_text(json.dumps(
        [{"image": str(s.path), "caption": c, "confidence": p}
         for s, c, p in zip(held_out, test["captions"], test["confidences"], strict=True)], indent=1))
    return metrics


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("train the Cradle captioner", add_help=True)
    parser.add_argument("data", type=Path, help="captions file: COCO JSON, Flickr8k, or CSV")
    parser.add_argument("out_dir", type=Path, help="run folder")
    parser.add_argument("--images", type=Path, default=None)
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--attention", action="store_true")
    parser.add_argument("--finetune", action="store_true", help="train the backbone too")
    parser.add_argument("--device", default=None)
    return parser


if __name__ == "__main__":
    cli = get_args_parser().parse_args()
    main(TrainArgs(cli.data, cli.out_dir,
                   CaptionConfig(attention=cli.attention, freeze_backbone=not cli.finetune),
                   TrainConfig(epochs=cli.epochs), images=cli.images, weights_dir=cli.weights_dir,
                   device=cli.device), Console())
