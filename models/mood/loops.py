"""One pass over the data: train, evaluate, or compute backbone features once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import OneCycleLR

from models.mood.model import MoodNet

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
OnBatch = Callable[[int, float, float], None]  # (images seen, running loss, running accuracy)


@dataclass(frozen=True)
class Precision:
    """How tensors run: mixed precision and channels-last apply on CUDA only."""

    device: torch.device
    amp: bool = False
    channels_last: bool = False

    @classmethod
    def for_device(cls, device: torch.device, amp: bool, channels_last: bool) -> Precision:
        cuda = device.type == "cuda"
        return cls(device, amp and cuda, channels_last and cuda)

    def inputs(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        if self.channels_last and batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp)


def train_one_epoch(
    model: nn.Module,
    batches: Batches,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    precision: Precision,
    *,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    on_batch: OnBatch | None = None,
) -> dict[str, float]:
    """Train `model` on every batch; a OneCycleLR scheduler steps after each one."""
    model.train()
    total_loss, correct, seen, start = 0.0, 0, 0, time.perf_counter()
    for images, labels in batches:
        images, labels = precision.inputs(images), labels.to(precision.device)
        with precision.autocast():
            logits = model(images)  # (B,K)
            loss = loss_fn(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if isinstance(scheduler, OneCycleLR):
            scheduler.step()
        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(dim=1) == labels).sum().item()
        seen += len(labels)
        if on_batch:
            on_batch(len(labels), total_loss / seen, correct / seen)
    seconds = time.perf_counter() - start
    return {"loss": total_loss / max(seen, 1), "accuracy": correct / max(seen, 1),
            "images_per_s": seen / max(seconds, 1e-9), "seconds": seconds}


@torch.inference_mode()
def evaluate(
    model: nn.Module, batches: Batches, loss_fn: nn.Module, precision: Precision
) -> dict[str, float]:
    """Mean loss and accuracy over `batches`, with dropout and BatchNorm in eval mode."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in batches:
        images, labels = precision.inputs(images), labels.to(precision.device)
        with precision.autocast():
            logits = model(images).float()  # (B,K)
        total_loss += loss_fn(logits, labels).item() * len(labels)
        correct += (logits.argmax(dim=1) == labels).sum().item()
        seen += len(labels)
    return {"loss": total_loss / max(seen, 1), "accuracy": correct / max(seen, 1)}


@torch.no_grad()  # not inference_mode: the features become training inputs for the head
def extract_features(
    model: MoodNet, batches: Batches, precision: Precision
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pooled backbone features (N,C) and labels (N,) for every image, on the CPU."""
    model.eval()
    features, labels = [], []
    for images, batch_labels in batches:
        with precision.autocast():
            features.append(model.embed(precision.inputs(images)).float().cpu())  # (B,C)
        labels.append(batch_labels)
    return torch.cat(features), torch.cat(labels)
