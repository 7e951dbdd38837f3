"""Familiarity benchmark: does the served vision know what it was not taught, and at what cost?

    .venv/bin/python -m bench familiarity [--models-dir var/models] [--fresh 700] [--threads 2]

With the served demo models (mood and caption, one shared backbone pass), in one run:
1. AUROC of each model's novelty score, fresh synthetic nursery scenes (rooms no model
   saw) against real pictures (Debian opencv-doc photographs and every frame of its
   `vtest.avi`), beside other scores on the same pooled features: k-NN at other k,
   class-conditional Gaussians with a shared (Ledoit-Wolf) covariance (Mahalanobis), and
   the softmax baseline (1 - max probability) the models had before.
2. False hazards per 1,000 real video frames, before (caption rules alone) and after the
   familiarity gate; the same for the photographs.
3. Hazard recall and false-hazard rate on the fresh synthetic scenes, before and after
   the gate, and the share of them found familiar.
4. Cost per frame of the gated pass against the same pass without familiarity scoring
   (batch of 16, median of repeats).
Results go to bench/results/familiarity.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score

from bench.common import write
from models.caption.demo import HAZARD_SCENES
from models.caption.safety import DEFAULT_RULES, RuleSet, load_rules
from models.familiarity import Familiarity, pooled
from models.images import open_rgb
from models.probes import real_photos, video_frames
from models.scenes import moods_csv, synthesize
from models.vision import FrameAnalysis, SceneAnalyser, hazards, load_analyser

DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def features(analyser: SceneAnalyser, paths: Sequence[Path], batch: int = 32) -> torch.Tensor:
    """Pooled backbone features (N,C) and the mood model's probabilities of the frames."""
    model, out = analyser.mood.model.eval(), []
    with torch.inference_mode():
        for first in range(0, len(paths), batch):
            images = torch.stack([analyser.mood.transform(open_rgb(p)) for p in paths[first:first + batch]])
            out.append(pooled(model.backbone(images)))
    return torch.cat(out)


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """How well a score (higher: stranger) puts real pictures above synthetic ones."""
    labels = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    return float(roc_auc_score(labels, np.r_[inside, outside]))


def mahalanobis(train: torch.Tensor, labels: Sequence[str]) -> Callable[[torch.Tensor], np.ndarray]:
    """Lee et al. (2018): class means, one shared covariance (shrunk: 1280 features, a few
    hundred frames), score = distance to the nearest class mean."""
    x, names = train.numpy(), np.array(labels)
    means = {c: x[names == c].mean(0) for c in sorted(set(labels))}
    centred = np.concatenate([x[names == c] - m for c, m in means.items()])
    precision = LedoitWolf().fit(centred).precision_

    def score(f: torch.Tensor) -> np.ndarray:
        q = f.numpy()
        return np.min([np.einsum("ij,jk,ik->i", q - m, precision, q - m) for m in means.values()], axis=0)

    return score


def knn(bank: torch.Tensor, k: int) -> Callable[[torch.Tensor], np.ndarray]:
    model = Familiarity(bank, k, 0.0, 99.0, 0)
    return lambda f: model.scores(f).numpy()


def gate_counts(analyses: Sequence[FrameAnalysis], rules: RuleSet, scenes: Sequence[str] | None
                ) -> dict[str, Any]:
    """Hazards before (caption rules alone) and after the familiarity gate."""
    before = after = hits_before = hits_after = dangers = others = alarms_before = alarms_after = 0
    for n, analysis in enumerate(analyses):
        caption = analysis.caption
        raw = {h.kind for h in rules.match(caption.text, caption.confidence, DAY)} if caption else set()  # type: ignore[union-attr]
        gated = {h.kind for h in hazards(analysis, rules, DAY)}
        before, after = before + bool(raw), after + bool(gated)
        if scenes is None:
            continue
        if scenes[n] in HAZARD_SCENES:
            dangers += 1
            hits_before += HAZARD_SCENES[scenes[n]] in raw
            hits_after += HAZARD_SCENES[scenes[n]] in gated
        else:
            others += 1
            alarms_before, alarms_after = alarms_before + bool(raw), alarms_after + bool(gated)
    found: dict[str, Any] = {"frames": len(analyses), "with_hazard_ungated": before,
                             "with_hazard_gated": after,
                             "familiar": sum(a.familiar for a in analyses) / max(len(analyses), 1)}
    if scenes is not None:
        found.update(hazard_recall_ungated=hits_before / dangers, hazard_recall_gated=hits_after / dangers,
                     false_hazard_rate_ungated=alarms_before / others,
                     false_hazard_rate_gated=alarms_after / others, hazard_frames=dangers)
    return found


def cost(analyser: SceneAnalyser, paths: Sequence[Path], repeats: int) -> dict[str, float]:
    """Seconds per frame of the shared pass with and without the familiarity scores,
    interleaved so both see the same machine."""
    models: list[Any] = [analyser.mood.model, *([analyser.captioner.model] if analyser.captioner else [])]
    kept = [m.familiarity for m in models]
    batch = list(paths[:16])
    gated: list[float] = []
    ungated: list[float] = []
    for _ in range(2):
        analyser.analyse(batch)  # warm-up
    for _ in range(repeats):
        for on, sink in ((True, gated), (False, ungated)):
            for model, known in zip(models, kept, strict=True):
                model.familiarity = known if on else None
            start = time.perf_counter()
            analyser.analyse(batch)
            sink.append((time.perf_counter() - start) / len(batch))
    for model, known in zip(models, kept, strict=True):
        model.familiarity = known
    g, u = statistics.median(gated), statistics.median(ungated)
    return {"gated_ms_per_frame": round(g * 1000, 2), "ungated_ms_per_frame": round(u * 1000, 2),
            "ratio": round(g / u, 3)}


def main(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    analyser = load_analyser(args.models_dir, device="cpu")
    assert analyser.captioner is not None, "the benchmark needs the demo captioner (make setup)"
    mood_known, caption_known = analyser.mood.model.familiarity, analyser.captioner.model.familiarity
    assert mood_known is not None and caption_known is not None, "the served models lack familiarity"
    rules = load_rules(DEFAULT_RULES)
    with tempfile.TemporaryDirectory(prefix="cradle-bench-familiarity-") as scratch:
        work = Path(scratch)
        fresh_csv = synthesize(work / "fresh", images=args.fresh, sessions=40, size=176, seed=4242)
        scene_of = {row["image"]: row["scene"] for row in csv.DictReader(fresh_csv.open())}
        fresh = [work / "fresh" / image for image in scene_of]
        photos = real_photos()
        video = video_frames(work / "video", every=1)
        # The demo mood model's own training frames (same seed as `cradle mood demo`), for the
        # class-conditional Gaussian the literature compares against.
        train_csv = moods_csv(synthesize(work / "train", images=1400, sessions=40, size=176, seed=0))
        train_rows = list(csv.DictReader(train_csv.open()))
        train_features = features(analyser, [work / "train" / r["path"] for r in train_rows])
        scored = {name: features(analyser, paths) for name, paths in
                  (("fresh", fresh), ("photos", photos), ("video", video))}
        real = torch.cat([scored["photos"], scored["video"]])
        probs = {name: analyser.mood.model.predict_pooled(f).max(dim=1).values for name, f in
                 (("fresh", scored["fresh"]), ("real", real))}
        scores: dict[str, Callable[[torch.Tensor], np.ndarray]] = {
            "served mood (k-NN k=10)": lambda f: mood_known.scores(f).numpy(),
            "served caption (k-NN k=10)": lambda f: caption_known.scores(f).numpy(),
            "k-NN k=1 (mood bank)": knn(mood_known.bank.cpu(), 1),
            "k-NN k=50 (mood bank)": knn(mood_known.bank.cpu(), 50),
            "Mahalanobis, shared covariance": mahalanobis(train_features, [r["label"] for r in train_rows]),
        }
        aurocs = {name: round(auroc(fn(scored["fresh"]), fn(real)), 4) for name, fn in scores.items()}
        softmax = auroc(1 - probs["fresh"].numpy(), 1 - probs["real"].numpy())
        aurocs["softmax baseline (1 - max p)"] = round(softmax, 4)
        closest_real = float(min(mood_known.scores(real).min(), caption_known.scores(real).min()))
        analyses = {name: analyser.analyse(paths) for name, paths in
                    (("fresh", fresh), ("photos", photos), ("video", video))}
        gates = {"fresh synthetic": gate_counts(analyses["fresh"], rules, list(scene_of.values())),
                 "real photographs": gate_counts(analyses["photos"], rules, None),
                 "real video frames": gate_counts(analyses["video"], rules, None)}
        speed = cost(analyser, fresh, args.repeats)
    per_1000 = {k: round(1000 * gates["real video frames"][f"with_hazard_{k}"] / len(video), 1)
                for k in ("ungated", "gated")}
    results = {"auroc": aurocs, "gates": gates, "false_hazards_per_1000_video_frames": per_1000,
               "cost": speed,
               "thresholds": {"mood": mood_known.describe(), "caption": caption_known.describe()},
               "closest_real_novelty": round(closest_real, 4),
               "softmax_max_p_real_median": round(float(probs["real"].median()), 3),
               "softmax_max_p_fresh_median": round(float(probs["fresh"].median()), 3),
               "frames": {"fresh": len(fresh), "photos": len(photos), "video": len(video)},
               "threads": args.threads}
    write("familiarity", results, markdown(results))
    return results


def markdown(r: dict[str, Any]) -> str:
    g = r["gates"]
    fresh, video, photos = g["fresh synthetic"], g["real video frames"], g["real photographs"]
    t = r["thresholds"]
    lines = [
        "# Familiarity: what the served vision was not taught",
        "",
        f"`.venv/bin/python -m bench familiarity` on {r['threads']} CPU threads, the demo models, one run: "
        f"{r['frames']['fresh']} fresh synthetic scenes (rooms no model saw, seed 4242), "
        f"{r['frames']['photos']} real photographs and all {r['frames']['video']} frames of `vtest.avi` "
        "(Debian opencv-doc).",
        "",
        "## Separating real pictures from the nursery the models know (AUROC, 1.0 is perfect)",
        "",
        "| score on the pooled MobileNetV2 features | AUROC |",
        "| --- | --- |",
        *[f"| {name} | {value:.4f} |" for name, value in r["auroc"].items()],
        "",
        f"Median max softmax probability of the mood head: {r['softmax_max_p_real_median']:.2f} on the real "
        f"pictures, {r['softmax_max_p_fresh_median']:.2f} on the fresh scenes: a confidence floor that "
        "stopped the street would also silence the nursery, so confidence could not be the gate.",
        "Thresholds (99th percentile of each model's held-out frames, the validation split and each "
        "training session against the others, set at training): mood "
        f"{t['mood']['threshold']:.3f} over {t['mood']['bank']} training frames, caption "
        f"{t['caption']['threshold']:.3f} over {t['caption']['bank']}; the closest real picture scores "
        f"{r['closest_real_novelty']:.3f}.",
        "",
        "## Hazards before and after the gate",
        "",
        "| frames | familiar | with a hazard, ungated | with a hazard, gated |",
        "| --- | --- | --- | --- |",
        f"| real video ({video['frames']}) | {video['familiar']:.1%} | {video['with_hazard_ungated']} "
        f"| {video['with_hazard_gated']} |",
        f"| real photographs ({photos['frames']}) | {photos['familiar']:.1%} | "
        f"{photos['with_hazard_ungated']} | {photos['with_hazard_gated']} |",
        f"| fresh synthetic ({fresh['frames']}) | {fresh['familiar']:.1%} | {fresh['with_hazard_ungated']} "
        f"| {fresh['with_hazard_gated']} |",
        "",
        f"False hazards per 1,000 real video frames: {r['false_hazards_per_1000_video_frames']['ungated']} "
        f"ungated, {r['false_hazards_per_1000_video_frames']['gated']} gated.",
        "",
        f"Fresh synthetic scenes: hazard recall {fresh['hazard_recall_ungated']:.1%} ungated, "
        f"{fresh['hazard_recall_gated']:.1%} gated ({fresh['hazard_frames']} hazard scenes); false-hazard "
        f"rate {fresh['false_hazard_rate_ungated']:.1%} ungated, "
        f"{fresh['false_hazard_rate_gated']:.1%} gated.",
        "",
        "## Cost",
        "",
        "Shared backbone pass for mood and caption, batch of 16: "
        f"{r['cost']['gated_ms_per_frame']} ms a frame with both familiarity scores, "
        f"{r['cost']['ungated_ms_per_frame']} ms without: "
        f"**{r['cost']['ratio']:.3f}x**.",
    ]
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("python -m bench familiarity", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--fresh", type=int, default=700, help="fresh synthetic scenes to draw")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
