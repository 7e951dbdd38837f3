"""The scene head: one sigmoid per tag, thresholds from validation frames."""

from __future__ import annotations

import torch

from models.caption.config import CaptionConfig
from models.caption.model import build_model
from models.caption.tagging import fit_tagger, tags_of
from models.caption.vocab import Vocab

TAGS = ("on_floor", "near_stairs", "in_cot")


def test_the_head_learns_separable_tags_and_sets_a_threshold_each() -> None:
    torch.manual_seed(0)
    model = build_model(CaptionConfig(image_size=64, tags=TAGS), Vocab.build(["a baby"], 1), weights=None)
    width = model.project.in_features
    centres = torch.randn(3, width)

    def frames(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        y = (torch.rand(n, 3, generator=g) < 0.4).float()
        x = y @ centres + 0.3 * torch.randn(n, width, generator=g)
        return x, y

    (train_x, train_y), (val_x, val_y) = frames(200, 1), frames(60, 2)
    found = fit_tagger(model, train_x, train_y, val_x, val_y, epochs=60)
    assert set(found) == set(TAGS)
    assert all(found[t]["f1"] >= 0.9 for t in TAGS), found
    assert model.tag_thresholds is not None and all(0.05 <= float(t) <= 0.95 for t in model.tag_thresholds)
    test_x, test_y = frames(40, 3)
    said = tags_of(model, test_x)
    truth = [tuple(t for t, on in zip(TAGS, row.tolist(), strict=True) if on) for row in test_y]
    assert sum(a == b for a, b in zip(said, truth, strict=True)) >= 36


def test_a_captioner_without_tags_sees_none() -> None:
    model = build_model(CaptionConfig(image_size=64), Vocab.build(["a baby"], 1), weights=None)
    assert model.tagger is None and tags_of(model, torch.randn(2, model.project.in_features)) == [(), ()]
