from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.mood.config import MoodConfig, TrainConfig
from models.mood.model import MoodNet, build_model, load_model, save_model


def test_forward_gives_logits_per_class(random_model: MoodNet) -> None:
    logits = random_model.eval()(torch.randn(5, 3, 64, 64))
    assert logits.shape == (5, 4)
    assert not torch.allclose(logits.softmax(dim=1).sum(dim=1), logits.sum(dim=1))


def test_predict_softmax_is_over_classes_not_the_batch(random_model: MoodNet) -> None:
    images = torch.randn(6, 3, 64, 64)
    probs = random_model.predict(images)
    assert probs.shape == (6, 4)
    assert torch.allclose(probs.sum(dim=1), torch.ones(6), atol=1e-5)
    alone = random_model.predict(images[:1])  # an image's mood must not depend on its batch
    assert torch.allclose(alone[0], probs[0], atol=1e-5)


def test_any_list_of_classes() -> None:
    model = build_model(MoodConfig(classes=("calm", "cross", "asleep"), image_size=64), None)
    assert model.predict(torch.randn(2, 3, 64, 64)).shape == (2, 3)
    hidden = build_model(MoodConfig(classes=("a", "b"), hidden=32), None)
    assert hidden.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 2)


def test_checkpoint_round_trip(random_model: MoodNet, tmp_path: Path) -> None:
    images = torch.randn(3, 3, 64, 64)
    expected = random_model.predict(images)
    path = save_model(random_model, tmp_path / "mood.pt", train=TrainConfig(head_epochs=2),
                      metrics={"accuracy": 0.5})
    loaded = load_model(path, "cpu")
    assert loaded.config == random_model.config
    assert torch.allclose(loaded.predict(images), expected, atol=1e-6)
    assert loaded.version.startswith("mood-")
    raw = torch.load(path, weights_only=True)
    assert TrainConfig.from_dict(raw["train"]) == TrainConfig(head_epochs=2)


def test_head_only_checkpoint_rebuilds_the_imagenet_backbone(
    models_dir: Path, tmp_path: Path
) -> None:
    model = build_model(MoodConfig(image_size=64), weights_dir=models_dir)
    torch.nn.init.normal_(model.head[-1].weight)
    path = save_model(model, tmp_path / "head.pt", head_only=True)
    assert path.stat().st_size < 100_000
    images = torch.randn(2, 3, 64, 64)
    loaded = load_model(path, "cpu", weights_dir=models_dir)
    assert torch.allclose(loaded.predict(images), model.predict(images), atol=1e-5)


def test_load_model_explains_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cradle mood"):
        load_model(tmp_path / "absent.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(ValueError, match="not a Cradle mood checkpoint"):
        load_model(other)
