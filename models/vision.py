"""What the vision worker runs: mood and caption for each frame, in one backbone pass
when the two models share their backbone (both frozen on the same ImageNet weights at
the same crop size, as the demo models are), in two passes otherwise.

A model may only speak about what it was taught: a mood counts only when the mood model
finds the frame familiar, a hazard is raised only when the captioner does, and a frame
is familiar (to Cradle) when every model that looked at it does.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from models.batches import in_batches
from models.caption.demo import demo_path as caption_demo_path
from models.caption.safety import Hazard, RuleSet
from models.caption.serve import Caption, Captioner, CaptionFailure
from models.familiarity import pooled
from models.mood.demo import demo_path as mood_demo_path
from models.mood.serve import MoodFailure, MoodPredictor, MoodResult
from models.registry import serving
from models.transforms import eval_crop, normalize_pixels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameAnalysis:
    path: Path
    mood: MoodResult | MoodFailure
    caption: Caption | CaptionFailure | None  # None when no captioner is loaded

    @property
    def familiar(self) -> bool:
        """Whether every model that looked at the frame found it familiar."""
        if not isinstance(self.mood, MoodResult) or not self.mood.familiar:
            return False
        return not isinstance(self.caption, CaptionFailure) and (
            self.caption is None or self.caption.familiar)


def hazards(analysis: FrameAnalysis, rules: RuleSet, when: datetime | None = None) -> list[Hazard]:
    """The safety rules the frame's caption or its scene tags trigger at local time
    `when`, one hazard per kind; none from a frame without a caption or one the
    captioner found unfamiliar."""
    caption = analysis.caption
    if not isinstance(caption, Caption) or not caption.familiar:
        return []
    found: dict[str, Hazard] = {}
    for hazard in [*rules.match(caption.text, caption.confidence, when),
                   *rules.match_tags(set(caption.tags), caption.text, when)]:
        found.setdefault(hazard.kind, hazard)  # the words first, then the tags
    return list(found.values())


def inference_backbone(backbone: nn.Module) -> nn.Module:
    """A serving copy of a backbone in eval mode: each BatchNorm folded into the
    convolution before it (the running statistics become the convolution's weights, so
    the output is the same up to float rounding) and channels-last memory. On CPU it
    runs at about twice the images/s of the module as trained (bench/results/camera.md);
    the model's own backbone is left as it is, for training and for comparing weights."""
    served = copy.deepcopy(backbone).eval()
    for parent in served.modules():
        names = list(parent._modules)
        for conv_name, norm_name in itertools.pairwise(names):
            conv, norm = parent._modules[conv_name], parent._modules[norm_name]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                parent._modules[conv_name] = fuse_conv_bn_eval(conv, norm)
                parent._modules[norm_name] = nn.Identity()
    return served.to(memory_format=torch.channels_last)


class SceneAnalyser:
    def __init__(self, mood: MoodPredictor, captioner: Captioner | None = None) -> None:
        self.mood = mood
        self.captioner = captioner
        self.shared = captioner is not None and captioner.shares_backbone(
            mood.model.backbone, mood.model.config.image_size
        )
        self.backbone = inference_backbone(mood.model.backbone)  # the one pass, for one model or both
        self._crop = eval_crop(mood.model.config.image_size)

    def analyse(self, paths: Sequence[Path]) -> list[FrameAnalysis]:
        """One analysis per path, in order."""
        paths = [Path(p) for p in paths]
        if self.captioner is not None and not self.shared:
            moods = self.mood.predict_paths(paths)
            captions = self.captioner.describe_paths(paths)
            return [FrameAnalysis(*row) for row in zip(paths, moods, captions, strict=True)]
        return in_batches(paths, self.mood.max_batch, self.crop, self.analyse_pixels, _undecodable)

    def crop(self, image: Image.Image) -> torch.Tensor:
        """A decoded frame -> its crop as bytes (S,S,3) uint8, normalised with its batch."""
        return torch.from_numpy(np.asarray(self._crop(image)).copy())

    def analyse_pixels(self, pixels: torch.Tensor, paths: list[Path]) -> list[FrameAnalysis]:
        """Crops (N,S,S,3) uint8 from `crop` -> one analysis per frame."""
        return self.analyse_images(normalize_pixels(pixels), paths)

    @torch.inference_mode()
    def analyse_images(self, images: torch.Tensor, paths: list[Path]) -> list[FrameAnalysis]:
        """Normalised images (N,3,S,S) from `self.mood.transform` -> one analysis per
        frame, the backbone run once for both models; only for a captioner that shares
        the mood model's backbone, or none."""
        assert self.captioner is None or self.shared, "two backbones: analyse() runs a pass each"
        with self.mood.precision.autocast():
            # (N,3,S,S) -> (N,C,h,w), once for both models
            feature_map = self.backbone(self.mood.precision.inputs(images))
        moods = self.mood.results(pooled(feature_map), paths)  # (N,C) -> moods
        if self.captioner is None:
            return [FrameAnalysis(p, m, None) for p, m in zip(paths, moods, strict=True)]
        captions = self.captioner.describe_features(feature_map.float(), paths)
        return [FrameAnalysis(*row) for row in zip(paths, moods, captions, strict=True)]


def _undecodable(path: Path, error: str) -> FrameAnalysis:
    return FrameAnalysis(path, MoodFailure(path, error), CaptionFailure(path, error))


def resolve_device(setting: str) -> str:
    """"auto" -> cuda when there is one, else cpu; anything else as given."""
    if setting != "auto":
        return setting
    return "cuda" if torch.cuda.is_available() else "cpu"


def served_checkpoints(models_dir: Path, mood_checkpoint: Path | None = None,
                       caption_checkpoint: Path | None = None) -> tuple[Path, Path]:
    """The mood and caption checkpoints that serve: pinned ones, else the registry's
    current versions, else the demo models (models/registry.py)."""
    return (serving(models_dir, "mood", mood_checkpoint, mood_demo_path(models_dir)),
            serving(models_dir, "caption", caption_checkpoint, caption_demo_path(models_dir)))


def load_analyser(models_dir: Path, mood_checkpoint: Path | None = None,
                  caption_checkpoint: Path | None = None, *, device: str = "auto",
                  beam_size: int = 3, max_batch: int = 16) -> SceneAnalyser:
    """The served models (`served_checkpoints`; the captioner only when one exists)."""
    device = resolve_device(device)
    mood_path, checkpoint = served_checkpoints(models_dir, mood_checkpoint, caption_checkpoint)
    mood = MoodPredictor(mood_path, device, weights_dir=models_dir, max_batch=max_batch)
    captioner = None
    if checkpoint.is_file() or caption_checkpoint:
        captioner = Captioner(checkpoint, device, weights_dir=models_dir, beam_size=beam_size,
                              max_batch=max_batch)
    else:
        log.warning("no caption model at %s: frames get moods only ('cradle caption demo')", checkpoint)
    analyser = SceneAnalyser(mood, captioner)
    log.info("vision models loaded; one shared backbone pass: %s", analyser.shared)
    for name, model in (("mood", mood.model), ("caption", captioner.model if captioner else None)):
        if model is not None and model.familiarity is None:
            log.warning("the %s model %s carries no familiarity statistics (trained before Cradle "
                        "kept them): every frame is unfamiliar to it, so it raises nothing; train "
                        "it again", name, model.version)
    return analyser
