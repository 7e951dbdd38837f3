"""A short CPU training run on synthetic scenes: the captions must be right and useful."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from models.caption import training
from models.caption.config import CaptionConfig, TrainConfig
from models.caption.data import CaptionedImage
from models.caption.demo import hazard_accuracy, scenes_by_image
from models.caption.safety import DEFAULT_RULES, load_rules
from models.caption.training import ResumeError, TrainArgs, evaluate, main, train_one_epoch
from models.scenes import synthesize
from tests.models.caption.conftest import TrainedRun


def _test_images(run: TrainedRun) -> list[CaptionedImage]:
    return [CaptionedImage(Path(r["image"]), tuple(r["captions"]), r["session"]) for r in run.split["test"]]


def test_held_out_rooms_reach_bleu4_half(trained_run: TrainedRun) -> None:
    rooms = {part: {r["session"] for r in trained_run.split[part]} for part in ("train", "val", "test")}
    assert not rooms["test"] & (rooms["train"] | rooms["val"]) and len(rooms["test"]) >= 5
    assert trained_run.metrics["bleu4"] >= 0.5
    beam = evaluate(trained_run.model, _test_images(trained_run), beam_size=3)  # from the image files
    assert beam["bleu4"] >= 0.5


def test_captions_name_the_hazard_of_stair_and_window_scenes(trained_run: TrainedRun) -> None:
    images = _test_images(trained_run)
    scene_of = scenes_by_image(trained_run.captions_csv)
    scenes = [scene_of[str(i.path)] for i in images]
    result = evaluate(trained_run.model, images)
    captions, confidences, rules = result["captions"], result["confidences"], load_rules(DEFAULT_RULES)

    def accuracy(wanted: tuple[str, ...]) -> dict[str, float]:
        rows = [i for i, s in enumerate(scenes) if s in wanted]
        assert len(rows) >= 20
        return hazard_accuracy([captions[i] for i in rows], [scenes[i] for i in rows], rules,
                               [confidences[i] for i in rows])  # with the real confidence floor

    assert accuracy(("crawling", "standing"))["hazard_recall"] >= 0.9
    assert accuracy(("sleeping", "sitting"))["false_alarm_rate"] <= 0.2


def test_run_folder_has_everything_to_serve_and_inspect(trained_run: TrainedRun) -> None:
    out = trained_run.out_dir
    for name in ("best.pt", "last.pt", "vocab.json", "split.json", "history.json", "history.png",
                 "metrics.json"):
        assert (out / name).is_file(), name
    history = json.loads((out / "history.json").read_text())
    assert history[-1]["loss"] < history[0]["loss"]
    # head-only: the backbone stays in models/; the familiarity bank (fp16) rides along
    assert (out / "best.pt").stat().st_size < 3_000_000 + 2 * 1280 * len(trained_run.split["train"])
    checkpoint = torch.load(out / "best.pt", weights_only=True)
    known = checkpoint["familiarity"]
    assert known["bank"].shape == (len(trained_run.split["train"]), 1280)
    # the validation images, and each training room scored against the others
    assert known["held_out"] == len(trained_run.split["val"]) + len(trained_run.split["train"])
    assert known["calibration"] == "held-out and leave-one-group-out" and known["threshold"] > 0
    assert trained_run.model.familiarity is not None
    metrics = trained_run.metrics["familiarity"]
    assert metrics["familiar_held_out"] >= 0.9 and metrics["percentile"] == 99.0


def test_training_resumes_after_an_interruption(models_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    captions_csv = synthesize(tmp_path / "scenes", images=70, sessions=10, size=72, seed=4)
    args = TrainArgs(data=captions_csv, out_dir=tmp_path / "run", model=CaptionConfig(image_size=64),
                     train=TrainConfig(epochs=3, patience=9, min_word_count=1), weights_dir=models_dir,
                     device="cpu")
    epochs: list[int] = []

    def one_epoch_then_stop(*a: Any, **kw: Any) -> dict[str, float]:
        if len(epochs) == 2:
            raise KeyboardInterrupt  # the machine goes down during epoch 3
        epochs.append(1)
        return train_one_epoch(*a, **kw)

    monkeypatch.setattr(training, "train_one_epoch", one_epoch_then_stop)
    with pytest.raises(KeyboardInterrupt):
        main(args)
    monkeypatch.undo()
    before = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["history"]
    main(args)
    after = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in after] == [1, 2, 3]
    assert after[:2] == before  # carried over from last.pt, not trained again
    with pytest.raises(ResumeError, match="no-resume"):
        main(replace(args, train=replace(args.train, epochs=5)))
