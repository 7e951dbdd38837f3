"""Familiarity as pure logic: the k-NN score, the threshold set on held-out frames, the
checkpoint round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.familiarity import Familiarity, FamiliarityConfig, fit, pooled, read


def cloud(n: int, centre: torch.Tensor, spread: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return centre + spread * torch.randn(n, len(centre), generator=generator)


CENTRE = torch.ones(32)


@given(n=st.integers(20, 300), held=st.integers(5, 200), percentile=st.floats(50, 100),
       seed=st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_the_threshold_keeps_the_stated_share_of_held_out_frames_familiar(
    n: int, held: int, percentile: float, seed: int
) -> None:
    train, held_out = cloud(n, CENTRE, 0.3, seed), cloud(held, CENTRE, 0.3, seed + 1)
    model = fit(train, held_out, FamiliarityConfig(k=5, percentile=percentile))
    share = float((model.scores(held_out) <= model.threshold).float().mean())
    assert share >= percentile / 100 - 1 / held  # quantile interpolation: at most one frame short
    assert model.held_out == held and model.calibration == "held-out"


def test_a_frame_from_elsewhere_is_unfamiliar_and_one_from_the_bank_is_not() -> None:
    train = cloud(200, CENTRE, 0.2, 0)
    model = fit(train, cloud(50, CENTRE, 0.2, 1), FamiliarityConfig(k=5, percentile=99))
    elsewhere = cloud(20, -CENTRE, 0.2, 2)  # pointing the other way: far in cosine distance
    assert (model.scores(elsewhere) > model.threshold).all()
    assert (model.scores(cloud(20, CENTRE, 0.2, 3)) <= model.threshold).float().mean() >= 0.9
    assert not model.familiar(float(model.scores(elsewhere[:1])[0]))
    exact = fit(train, train[:5], FamiliarityConfig(k=1))
    assert float(exact.scores(train[:1])[0]) == pytest.approx(0, abs=1e-5)


def test_the_score_ignores_scale_and_the_bank_is_capped() -> None:
    train = cloud(500, CENTRE, 0.3, 4)
    model = fit(train, cloud(40, CENTRE, 0.3, 5), FamiliarityConfig(k=3, max_bank=128))
    assert len(model.bank) == 128 and model.k == 3
    probe = cloud(8, CENTRE, 0.3, 6)
    assert torch.allclose(model.scores(probe), model.scores(10 * probe), atol=1e-5)


def test_without_held_out_frames_the_threshold_comes_from_the_bank_itself() -> None:
    model = fit(cloud(60, CENTRE, 0.3, 7), torch.zeros(0, 32), FamiliarityConfig(k=4))
    assert model.calibration == "leave-one-out" and model.threshold > 0
    with pytest.raises(ValueError, match="at least one"):
        fit(torch.zeros(0, 32), torch.zeros(0, 32))


def test_it_travels_in_a_checkpoint_loaded_with_weights_only(tmp_path: Path) -> None:
    model = fit(cloud(80, CENTRE, 0.3, 8), cloud(20, CENTRE, 0.3, 9), FamiliarityConfig(k=4))
    path = tmp_path / "model.pt"
    torch.save({"format": "x", "familiarity": model.to_dict()}, path)
    again = read(torch.load(path, weights_only=True))
    assert isinstance(again, Familiarity)
    assert again.threshold == pytest.approx(model.threshold) and again.k == 4
    probe = cloud(5, CENTRE, 0.3, 10)
    assert torch.allclose(again.scores(probe), model.scores(probe), atol=2e-3)  # bank kept in half precision
    assert read({"familiarity": None}) is None
    with pytest.raises(ValueError, match="unknown familiarity method"):
        Familiarity.from_dict({**model.to_dict(), "method": "mahalanobis"})


def test_pooling_is_the_mean_over_the_feature_map() -> None:
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float16).view(2, 3, 2, 2)
    assert torch.equal(pooled(maps), maps.float().mean(dim=(2, 3)))
