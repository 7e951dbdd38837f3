from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models.mood import training
from models.mood.config import MoodConfig, TrainConfig
from models.mood.data import Sample, read_split, split_samples
from models.mood.loops import Precision
from models.mood.lr_finder import find_lr
from models.mood.model import MoodNet, build_model, load_model
from models.mood.stages import make_optimizer, set_stage
from models.mood.synth import synthesize
from models.mood.training import TrainArgs, fit, loss_function, main, make_loader
from models.transforms import Augment

TINY = TrainConfig(batch_size=8, head_epochs=1, finetune_epochs=1, patience=5,
                   augment=Augment(rotation=10), progressive_sizes=(48, 64))


def test_short_run_trains_both_stages_and_writes_its_files(
    random_model: MoodNet, small_samples: list[Sample], tmp_path: Path
) -> None:
    split = split_samples(small_samples, "session", 0.25)
    history = fit(random_model, split.train, split.val, TINY, tmp_path, device=torch.device("cpu"))
    assert [h["stage"] for h in history] == [1, 2]
    assert [h["size"] for h in history] == [64, 48]  # stage 2 starts small (progressive)
    assert all(h["train_loss"] > 0 and 0 <= h["val_accuracy"] <= 1 for h in history)
    assert {"last.pt", "best.pt"} <= {p.name for p in tmp_path.iterdir()}
    assert fit(random_model, split.train, split.val, TINY, tmp_path) == history  # all done


def test_an_interrupted_run_resumes_where_it_stopped(
    small_samples: list[Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = split_samples(small_samples, "session", 0.25)
    config = TrainConfig(batch_size=8, head_epochs=2, finetune_epochs=1, patience=5)

    def model() -> MoodNet:
        torch.manual_seed(0)
        return build_model(MoodConfig(image_size=48), weights=None)

    real_evaluate, calls = training.evaluate, []

    def crash_on_third_epoch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate", crash_on_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(model(), split.train, split.val, config, tmp_path)
    monkeypatch.setattr(training, "evaluate", real_evaluate)
    resumed = fit(model(), split.train, split.val, config, tmp_path)
    assert [h["epoch"] for h in resumed] == [0, 1, 2]
    assert [h["stage"] for h in resumed] == [1, 1, 2]
    with pytest.raises(ValueError, match="other settings"):
        fit(model(), split.train, split.val, TINY, tmp_path)


def test_lr_finder_suggests_a_rate_and_restores_the_weights(
    random_model: MoodNet, small_samples: list[Sample], tmp_path: Path
) -> None:
    config = TrainConfig(batch_size=8)
    set_stage(random_model, 1, config)
    before = {k: v.clone() for k, v in random_model.state_dict().items()}
    loader = make_loader(small_samples, random_model.config.classes, config, 48, train=True)
    finding = find_lr(random_model, loader, make_optimizer(random_model, 1, config),
                      loss_function(small_samples, random_model.config.classes, config,
                                    torch.device("cpu")),
                      Precision(torch.device("cpu")), start=1e-5, end=10.0, steps=30)
    assert 1e-5 <= finding.suggestion <= 10.0
    assert len(finding.lrs) == len(finding.losses) >= 3
    assert finding.plot(tmp_path / "lr.png").stat().st_size > 0
    for name, value in random_model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_frozen_imagenet_mobilenet_learns_synthetic_moods(models_dir: Path, tmp_path: Path) -> None:
    """The issue's bar: at least 90 % on photo sessions never seen in training."""
    manifest = synthesize(tmp_path / "faces", per_class=150, sessions=24, size=176, seed=11)
    args = TrainArgs(
        data=manifest, out_dir=tmp_path / "run", model=MoodConfig(image_size=160),
        train=TrainConfig(head_epochs=25, finetune_epochs=0, augment=None, cache_features=True,
                          patience=5, seed=11),
        weights_dir=models_dir, device="cpu", val_fraction=0.2, test_fraction=0.2,
    )
    summary = main(args)
    split = read_split(tmp_path / "run" / "split.json")
    train_sessions = {s.session for s in split.train + split.val}
    assert split.test and train_sessions.isdisjoint(s.session for s in split.test)
    assert summary["split"] == "test" and summary["held_out"] == len(split.test)
    assert summary["accuracy"] >= 0.90
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert (tmp_path / "run" / "history.png").is_file()
    assert (tmp_path / "run" / "test" / "confusion.png").is_file()
    model = load_model(Path(summary["checkpoint"]), "cpu", weights_dir=models_dir)
    assert model.version == summary["model_version"]
    # head-only, with the familiarity bank of the training photos (fp16) beside the head
    assert Path(summary["checkpoint"]).stat().st_size < 100_000 + 2 * 1280 * len(split.train)
    assert model.familiarity is not None and len(model.familiarity.bank) == len(split.train)
    assert model.familiarity.held_out == len(split.val) + len(split.train)  # val, and leave-one-session-out
    assert summary["familiarity"]["familiar_held_out"] >= 0.9  # unseen sessions of the same kind
