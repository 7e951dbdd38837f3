"""The served demo models on real photographs and on fresh synthetic nursery scenes.

Real pictures (Debian's opencv-doc: people, rooms, animals, a street, toys, a painting,
logos, and frames of a real video) are unlike anything the demo models were taught: not
one may be familiar, not one may raise a hazard, by day or by night. Synthetic scenes
drawn afresh (rooms no model saw) must stay familiar and keep their hazards."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import torch

from models.caption.demo import HAZARD_SCENES
from models.caption.safety import DEFAULT_RULES, Period, RuleSet, load_rules
from models.probes import real_photos, video_frames
from models.scenes import synthesize
from models.vision import FrameAnalysis, SceneAnalyser, hazards, load_analyser
from tests.conftest import ROOT, require

MODELS = ROOT / "var" / "models"
NIGHT, DAY = datetime(2026, 12, 1, 23, 30, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyser() -> SceneAnalyser:
    require((MODELS / "mood" / "demo.pt").is_file() and (MODELS / "caption" / "demo.pt").is_file(),
            "the demo models are missing: run `make setup`")
    torch.set_num_threads(2)
    return load_analyser(MODELS, device="cpu")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(DEFAULT_RULES, periods={"night": Period(time(19), time(7))})  # as Cradle gives it


def raised(analysis: FrameAnalysis, rules: RuleSet) -> set[str]:
    return {h.kind for when in (DAY, NIGHT) for h in hazards(analysis, rules, when)}


def test_no_real_photograph_is_familiar_or_raises_a_hazard(
    analyser: SceneAnalyser, rules: RuleSet, tmp_path: Path
) -> None:
    pictures = real_photos() + video_frames(tmp_path, every=20)
    assert len(pictures) >= 60
    analyses = analyser.analyse(pictures)
    assert all(a.mood.familiar is False for a in analyses)  # type: ignore[union-attr]
    assert all(a.caption.familiar is False for a in analyses)  # type: ignore[union-attr]
    assert [a.path.name for a in analyses if a.familiar or raised(a, rules)] == []
    # Without the gate they would have alarmed: the captioner still says "stairs" to them.
    ungated = [a for a in analyses if rules.match(a.caption.text, a.caption.confidence)]  # type: ignore[union-attr]
    assert len(ungated) > len(analyses) / 3


def test_fresh_synthetic_scenes_stay_familiar_and_keep_their_hazards(
    analyser: SceneAnalyser, rules: RuleSet, tmp_path: Path
) -> None:
    captions = synthesize(tmp_path / "scenes", images=320, sessions=40, size=176, seed=4242)
    scene_of = {row["image"]: row["scene"] for row in csv.DictReader(captions.open())}
    paths = [tmp_path / "scenes" / image for image in scene_of]
    analyses = analyser.analyse(paths)
    familiar = sum(a.familiar for a in analyses) / len(analyses)
    hits = alarms = dangers = others = 0
    for image, analysis in zip(scene_of, analyses, strict=True):
        kinds = {h.kind for h in hazards(analysis, rules, DAY)}
        if scene_of[image] in HAZARD_SCENES:
            dangers += 1
            hits += HAZARD_SCENES[scene_of[image]] in kinds
        else:
            others += 1
            alarms += bool(kinds)
    assert familiar >= 0.95, familiar
    assert hits / dangers >= 0.90, (hits, dangers)
    assert alarms / others <= 0.05, (alarms, others)
