from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.backbones import load_backbone
from models.caption.data import open_rgb
from models.caption.model import build_model, save_model
from models.caption.serve import Caption, Captioner, CaptionFailure
from tests.models.caption.conftest import TrainedRun


def test_describe_paths_keeps_order_and_reports_bad_frames(trained_run: TrainedRun, models_dir: Path,
                                                           tmp_path: Path) -> None:
    captioner = Captioner(trained_run.out_dir / "best.pt", "cpu", weights_dir=models_dir, max_batch=2)
    frames = [Path(r["image"]) for r in trained_run.split["test"][:3]]
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    results = captioner.describe_paths([frames[0], tmp_path / "broken.jpg", *frames[1:]])
    assert [type(r) for r in results] == [Caption, CaptionFailure, Caption, Caption]
    assert isinstance(results[1], CaptionFailure) and "cannot decode" in results[1].error
    first = results[0]
    assert isinstance(first, Caption) and first.path == frames[0] and first.text
    assert 0 < first.confidence <= 1 and first.model_version == captioner.version


def test_shared_backbone_pass_gives_the_same_captions(trained_run: TrainedRun, models_dir: Path) -> None:
    captioner = Captioner(trained_run.out_dir / "best.pt", "cpu", weights_dir=models_dir)
    mood_backbone = load_backbone("mobilenet_v2", "imagenet", weights_dir=models_dir).features.eval()
    assert captioner.shares_backbone(mood_backbone, captioner.image_size)
    assert not captioner.shares_backbone(mood_backbone, captioner.image_size + 32)
    frames = [Path(r["image"]) for r in trained_run.split["test"][:4]]
    images = torch.stack([captioner.transform(open_rgb(frame)) for frame in frames])
    with torch.inference_mode():
        shared = captioner.describe_features(mood_backbone(images), frames)
    assert [c.text for c in shared] == [c.text for c in captioner.describe_paths(frames)]  # type: ignore[union-attr]


def test_a_different_backbone_is_not_shared(trained_run: TrainedRun, models_dir: Path) -> None:
    captioner = Captioner(trained_run.out_dir / "best.pt", "cpu", weights_dir=models_dir)
    torch.manual_seed(0)
    other = load_backbone("mobilenet_v2", None).features
    assert not captioner.shares_backbone(other, captioner.image_size)


def test_a_finetuned_backbone_is_saved_and_never_shared(trained_run: TrainedRun, models_dir: Path,
                                                       tmp_path: Path) -> None:
    config = replace(trained_run.model.config, freeze_backbone=False)
    model = build_model(config, trained_run.model.vocab, "imagenet", weights_dir=models_dir)
    path = save_model(model, tmp_path / "finetuned.pt")
    assert any(k.startswith("backbone.") for k in torch.load(path, weights_only=True)["state_dict"])
    captioner = Captioner(path, "cpu")
    imagenet = load_backbone("mobilenet_v2", "imagenet", weights_dir=models_dir).features
    assert not captioner.shares_backbone(imagenet, captioner.image_size)


def test_batched_beam_search_matches_frame_by_frame_on_real_captions(trained_run: TrainedRun,
                                                                     models_dir: Path) -> None:
    frames = [Path(r["image"]) for r in trained_run.split["test"][:12]]
    batched = Captioner(trained_run.out_dir / "best.pt", "cpu", weights_dir=models_dir, beam_size=4)
    alone = Captioner(trained_run.out_dir / "best.pt", "cpu", weights_dir=models_dir, beam_size=4,
                      max_batch=1)
    together, one_by_one = batched.describe_paths(frames), alone.describe_paths(frames)
    assert [c.text for c in together] == [c.text for c in one_by_one]  # type: ignore[union-attr]
    assert [c.log_prob for c in together] == pytest.approx(  # type: ignore[union-attr]
        [c.log_prob for c in one_by_one], abs=1e-3)  # type: ignore[union-attr]
