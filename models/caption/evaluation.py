"""Scoring captions: corpus BLEU-1..4 (sacrebleu) and a sample sheet to look at.

Hypotheses and references are both normalised by the vocabulary's tokenizer, so BLEU
compares the words the model can produce. METEOR and CIDEr need pycocoevalcap, which is
not installed here; they are left out rather than approximated.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from sacrebleu.metrics import BLEU

from models.caption.vocab import tokenize


def bleu_scores(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus BLEU-1..4 in [0, 1]; each hypothesis has one or more references."""
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError("give one list of references per hypothesis, and at least one")
    most = max(len(refs) for refs in references)
    streams = [[" ".join(tokenize(refs[i])) if i < len(refs) else None for refs in references]
               for i in range(most)]  # sacrebleu wants one stream per reference slot
    hyps = [" ".join(tokenize(h)) for h in hypotheses]
    return {f"bleu{n}": BLEU(max_ngram_order=n, tokenize="none", effective_order=n < 4)
            .corpus_score(hyps, streams).score / 100 for n in range(1, 5)}  # type: ignore[arg-type]


def sample_sheet(images: Sequence[Path], predicted: Sequence[str], references: Sequence[Sequence[str]],
                 path: Path, columns: int = 4) -> Path:
    """A PNG grid: each image with its predicted caption (bold) and its references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 4.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, guess, refs in zip(axes.flat, images, predicted, references, strict=False):
        with Image.open(image) as picture:
            ax.imshow(picture.convert("RGB"))
        wrap = textwrap.fill
        ax.set_title(wrap(guess, 34), fontsize=8, fontweight="bold")
        ax.text(0, -0.04, "\n".join(wrap("- " + r, 40) for r in refs[:3]), fontsize=6,
                va="top", transform=ax.transAxes)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
