"""Show-and-Tell captioner: ImageNet backbone -> projected features -> LSTM -> words.

With `attention` on, each step also looks at the spatial feature map through additive
soft attention (Show, Attend and Tell). With `tags`, a multi-label scene head (a sigmoid
per tag on the pooled features, each with its own threshold) says which of the family's
scene tags a frame shows. The decoder can start from a backbone feature
map computed elsewhere (`caption_features`), so the vision worker can run the shared
frozen backbone once per frame for both mood and caption.

A checkpoint is a plain dict loadable with `weights_only=True`: the CaptionConfig and
the vocabulary as dicts, the state dict (without the backbone when it is frozen ImageNet:
`head_only`, a few MB, the backbone read from the models folder), the familiarity
statistics of its training images (models/familiarity.py), metrics. Writing, reading and
naming the file are models/checkpoints.py's, the same for every family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from models import checkpoints, familiarity
from models.backbones import Backbone, Weights, load_backbone
from models.caption.config import CaptionConfig
from models.caption.vocab import Vocab
from models.familiarity import Familiarity

CHECKPOINT_FORMAT = "cradle.caption/1"
State = tuple[torch.Tensor, torch.Tensor]  # LSTM (h, c), each (L,B,H)


class Encoded(NamedTuple):
    regions: torch.Tensor  # (B,N,E) projected features, one row per feature-map cell
    summary: torch.Tensor  # (B,E) their mean: the whole image in one vector


class Attention(nn.Module):
    """Additive attention: where in the image to look, given the decoder's state."""

    def __init__(self, feature_size: int, hidden_size: int, attention_size: int) -> None:
        super().__init__()
        self.from_features = nn.Linear(feature_size, attention_size)
        self.from_hidden = nn.Linear(hidden_size, attention_size)
        self.score = nn.Linear(attention_size, 1)

    def forward(self, regions: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        mixed = torch.tanh(self.from_features(regions) + self.from_hidden(hidden)[:, None])  # (B,N,A)
        weights = self.score(mixed).squeeze(2).softmax(dim=1)  # (B,N)
        return (weights[:, :, None] * regions).sum(dim=1)  # (B,E)


class CaptionNet(nn.Module):
    def __init__(self, config: CaptionConfig, vocab: Vocab, backbone: Backbone) -> None:
        super().__init__()
        self.config, self.vocab = config, vocab
        self.backbone = backbone.features
        e, h, layers = config.embed_size, config.hidden_size, config.num_layers
        self.project = nn.Linear(backbone.out_channels, e)
        self.norm = nn.LayerNorm(e)  # keeps the initial state out of tanh's flat tails
        self.init_h, self.init_c = nn.Linear(e, layers * h), nn.Linear(e, layers * h)
        self.embed = nn.Embedding(len(vocab), e, padding_idx=vocab.pad)
        self.attention = Attention(e, h, config.attention_size) if config.attention else None
        context = e if config.attention else 0
        self.lstm = nn.LSTM(e + context, h, layers, batch_first=True,
                            dropout=config.dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(h + context, len(vocab))
        self.tagger = nn.Linear(backbone.out_channels, len(config.tags)) if config.tags else None
        # per-tag decision thresholds, chosen on validation frames (models/caption/tagging.py)
        self.tag_thresholds: torch.Tensor | None
        self.register_buffer("tag_thresholds", torch.full((len(config.tags),), 0.5) if config.tags else None)
        if config.freeze_backbone:
            self.backbone.requires_grad_(False)
        self.version = "untrained"  # set by load_model from the checkpoint file
        self.imagenet_backbone = False  # set by build_model: backbone holds the shipped weights
        self.familiarity: Familiarity | None = None  # set after training; None: nothing is familiar

    def train(self, mode: bool = True) -> CaptionNet:
        super().train(mode)
        if self.config.freeze_backbone:
            self.backbone.eval()  # BatchNorm keeps its ImageNet statistics
        return self

    def caption_features(self, feature_map: torch.Tensor) -> Encoded:
        """A backbone feature map (B,C,h,w) -> what the decoder starts from."""
        cells = feature_map.flatten(2).transpose(1, 2)  # (B,C,h,w) -> (B,h*w,C)
        regions = self.norm(self.project(cells.to(self.project.weight.dtype)))  # (B,N,E)
        return Encoded(regions, regions.mean(dim=1))  # (B,N,E), (B,E)

    def encode(self, images: torch.Tensor) -> Encoded:
        """Normalised images (B,3,S,S) -> Encoded."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_backbone):
            feature_map = self.backbone(images)  # (B,3,S,S) -> (B,C,h,w)
        return self.caption_features(feature_map)

    def tag_probabilities(self, features: torch.Tensor) -> torch.Tensor | None:
        """Pooled backbone features (B,C) -> each scene tag's probability (B,T); None
        without a scene head."""
        if self.tagger is None:
            return None
        return torch.sigmoid(self.tagger(features.to(self.tagger.weight.dtype)).float())

    def initial_state(self, summary: torch.Tensor) -> State:
        b, layers, h = len(summary), self.config.num_layers, self.config.hidden_size
        hidden = torch.tanh(self.init_h(summary)).view(b, layers, h).transpose(0, 1)  # (L,B,H)
        cell = torch.tanh(self.init_c(summary)).view(b, layers, h).transpose(0, 1)  # (L,B,H)
        return hidden.contiguous(), cell.contiguous()

    def step(self, tokens: torch.Tensor, state: State, regions: torch.Tensor
             ) -> tuple[torch.Tensor, State]:
        """One decoding step: previous words (B,) -> next-word logits (B,V), new state."""
        x = self.embed(tokens)  # (B,) -> (B,E)
        context = None
        if self.attention is not None:
            context = self.attention(regions, state[0][-1])  # (B,E)
            x = torch.cat([x, context], dim=1)  # (B,2E)
        output, state = self.lstm(x[:, None], state)  # (B,1,H)
        features = output[:, 0] if context is None else torch.cat([output[:, 0], context], 1)
        return self.out(self.dropout(features)), state  # (B,V)

    def forward(self, encoded: Encoded, captions: torch.Tensor, lengths: torch.Tensor
                ) -> torch.Tensor:
        """Teacher forcing: captions (B,T) with <start>..<end> and their lengths (B,) ->
        logits (B,T-1,V) predicting captions[:, 1:] (positions past a length are padding)."""
        state = self.initial_state(encoded.summary)
        inputs, steps = captions[:, :-1], captions.shape[1] - 1  # (B,T-1)
        if self.attention is None:  # one packed LSTM call over the whole batch
            packed = pack_padded_sequence(self.embed(inputs), (lengths - 1).cpu(),
                                          batch_first=True, enforce_sorted=False)
            output, _ = self.lstm(packed, state)
            hidden, _ = pad_packed_sequence(output, batch_first=True, total_length=steps)
            return self.out(self.dropout(hidden))  # (B,T-1,H) -> (B,T-1,V)
        logits = []
        for t in range(steps):  # attention needs the state of each step before the next
            step_logits, state = self.step(inputs[:, t], state, encoded.regions)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B,T-1,V)


def build_model(config: CaptionConfig, vocab: Vocab, weights: Weights = "imagenet", *,
                weights_dir: Path | None = None) -> CaptionNet:
    model = CaptionNet(config, vocab, load_backbone(config.backbone, weights, weights_dir=weights_dir))
    model.imagenet_backbone = isinstance(weights, str) and weights == "imagenet"
    return model


def save_model(model: CaptionNet, path: Path, *, train: dict[str, Any] | None = None,
               metrics: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically; a frozen ImageNet backbone is left out (`head_only`)."""
    head_only = model.config.freeze_backbone and model.imagenet_backbone
    state = {k: v for k, v in model.state_dict().items()
             if not (head_only and k.startswith("backbone."))}
    return checkpoints.write({
        "format": CHECKPOINT_FORMAT, "config": model.config.to_dict(),
        "vocab": model.vocab.to_dict(), "state_dict": state, "head_only": head_only,
        "train": train, "metrics": metrics or {},
        "familiarity": model.familiarity.to_dict() if model.familiarity else None,
    }, path)


def load_model(path: Path, device: torch.device | str | None = None, *,
               weights_dir: Path | None = None) -> CaptionNet:
    """Rebuild the captioner a checkpoint describes, in eval mode on `device`.

    `weights_dir` is the models folder holding the ImageNet backbones (head-only
    checkpoints read the backbone from there)."""
    checkpoint = checkpoints.read(path, "caption", CHECKPOINT_FORMAT)
    config = CaptionConfig.from_dict(checkpoint["config"])
    head_only = bool(checkpoint.get("head_only"))
    model = build_model(config, Vocab.from_dict(checkpoint["vocab"]),
                        "imagenet" if head_only else None, weights_dir=weights_dir)
    model.load_state_dict(checkpoint["state_dict"], strict=not head_only)
    model.version = checkpoints.version(path)
    device = device or checkpoints.default_device()
    model.familiarity = familiarity.read(checkpoint, device)
    return model.to(device).eval()
