from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from models.batches import decode
from models.mood.model import MoodNet, save_model
from models.mood.serve import MoodFailure, MoodPredictor, MoodResult


@pytest.fixture
def predictor(random_model: MoodNet, tmp_path: Path) -> MoodPredictor:
    return MoodPredictor(save_model(random_model, tmp_path / "mood.pt"), "cpu", max_batch=8)


def _frames(folder: Path) -> list[Path]:
    good = []
    for i, colour in enumerate([(250, 200, 180), (30, 60, 90), (120, 200, 40)]):
        path = folder / f"frame{i}.jpg"
        Image.new("RGB", (120, 90), colour).save(path)
        good.append(path)
    broken = folder / "broken.jpg"
    broken.write_bytes(good[0].read_bytes()[:200])
    return [good[0], broken, good[1], folder / "missing.jpg", good[2]]


def test_mixed_frames_get_one_result_each_in_order(
    predictor: MoodPredictor, tmp_path: Path
) -> None:
    paths = _frames(tmp_path)
    calls = []
    predictor.model.backbone.register_forward_hook(lambda *_: calls.append(1))
    results = predictor.predict_paths(paths)
    assert [r.path for r in results] == paths
    assert [type(r) for r in results] == [MoodResult, MoodFailure, MoodResult, MoodFailure,
                                          MoodResult]
    assert len(calls) == 1  # the three good frames went through the backbone in one pass
    assert predictor.version.startswith("mood-")
    for result in results:
        if isinstance(result, MoodResult):
            assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
            assert result.mood == max(result.probabilities, key=result.probabilities.__getitem__)
            assert result.model_version == predictor.version
            # saved without familiarity statistics: it vouches for no frame
            assert result.novelty is None and not result.familiar
        else:
            assert str(result.path) in result.error


def test_results_do_not_depend_on_batch_company(predictor: MoodPredictor, tmp_path: Path) -> None:
    paths = [p for p in _frames(tmp_path) if p.name.startswith("frame")]
    together = predictor.predict_paths(paths)
    alone = [predictor.predict_paths([p])[0] for p in paths]
    for a, b in zip(together, alone, strict=True):
        assert isinstance(a, MoodResult) and isinstance(b, MoodResult)
        assert torch.allclose(torch.tensor(list(a.probabilities.values())),
                              torch.tensor(list(b.probabilities.values())), atol=1e-5)


def test_large_batches_are_chunked(predictor: MoodPredictor, tmp_path: Path) -> None:
    frame = _frames(tmp_path)[0]
    results = predictor.predict_paths([frame] * 19)
    assert len(results) == 19 and all(isinstance(r, MoodResult) for r in results)
    assert predictor.predict_paths([]) == []


def test_each_mood_says_how_familiar_its_frame_is(random_model: MoodNet, tmp_path: Path) -> None:
    """With statistics from frames like the first one, that frame is familiar and a very
    different one is not; both scored in the mood's own pass."""
    from models.familiarity import FamiliarityConfig, fit

    frames = [p for p in _frames(tmp_path) if p.name.startswith("frame")]
    probe = MoodPredictor(save_model(random_model, tmp_path / "plain.pt"), "cpu")
    images, _rows, _errors = decode([frames[0]] * 4, probe.transform)
    assert images is not None
    images = probe.precision.inputs(images)  # as the predictor's own pass sees them
    with torch.inference_mode():
        seen = random_model.eval().embed(images + 0.01 * torch.randn_like(images))  # (4,C)
    random_model.familiarity = fit(seen, seen[:2], FamiliarityConfig(k=2, percentile=100))
    predictor = MoodPredictor(save_model(random_model, tmp_path / "known.pt"), "cpu")
    calls: list[int] = []
    predictor.model.backbone.register_forward_hook(lambda *_: calls.append(1))
    known, other = predictor.predict_paths([frames[0], frames[1]])
    assert isinstance(known, MoodResult) and isinstance(other, MoodResult) and len(calls) == 1
    assert known.novelty is not None and other.novelty is not None
    assert known.familiar and known.novelty < other.novelty and not other.familiar
