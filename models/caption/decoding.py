"""Turning encoded images into words: greedy decoding and batched beam search.

Both work on the whole batch at once (beam search on B*K rows), never looping over the
images. Each returns one `Decoded` per image: the word ids, the sequence log-probability
(sum of the chosen words' log-probabilities, <end> included) and its length.
`confidence` is the geometric-mean word probability, exp(log_prob / length), which
does not shrink with caption length: it is the score the safety rules' floor uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.caption.model import CaptionNet, Encoded


@dataclass(frozen=True)
class Decoded:
    tokens: tuple[int, ...]  # word ids, without <start> and <end>
    log_prob: float  # log-probability of the sequence, <end> included
    text: str

    @property
    def confidence(self) -> float:
        return math.exp(self.log_prob / (len(self.tokens) + 1))


def _results(model: CaptionNet, sequences: torch.Tensor, log_probs: torch.Tensor) -> list[Decoded]:
    out = []
    for row, log_prob in zip(sequences.tolist(), log_probs.tolist(), strict=True):
        tokens = tuple(row[: row.index(model.vocab.end)] if model.vocab.end in row else row)
        out.append(Decoded(tokens, float(log_prob), model.vocab.decode(tokens)))
    return out


def _word_log_probs(model: CaptionNet, logits: torch.Tensor, last: bool) -> torch.Tensor:
    """Logits (R,V) -> log-probabilities (R,V) of the words that may follow: never <pad> or
    <start>, and only <end> at the `last` step (captions stop at max_length words)."""
    logits = logits.float()
    logits[:, [model.vocab.pad, model.vocab.start]] = -math.inf
    step = logits.log_softmax(dim=1)
    if last:
        step = torch.where(torch.arange(step.shape[1], device=step.device) == model.vocab.end,
                           step, -math.inf)
    return step


@torch.inference_mode()
def greedy(model: CaptionNet, encoded: Encoded, max_length: int | None = None) -> list[Decoded]:
    """The most probable word at each step, for every image of the batch at once."""
    if model.training:  # served models already are: no walk over every module per batch
        model.eval()
    limit = max_length or model.config.max_length
    b, device = len(encoded.summary), encoded.summary.device
    state = model.initial_state(encoded.summary)
    tokens = torch.full((b,), model.vocab.start, dtype=torch.long, device=device)
    finished = torch.zeros(b, dtype=torch.bool, device=device)
    log_probs = torch.zeros(b, device=device)
    sequence = []
    for t in range(limit + 1):  # up to `limit` words and then <end>
        logits, state = model.step(tokens, state, encoded.regions)  # (B,V)
        step = _word_log_probs(model, logits, last=t == limit)  # (B,V)
        best, tokens = step.max(dim=1)  # (B,), (B,)
        log_probs += torch.where(finished, 0.0, best)
        tokens = torch.where(finished, model.vocab.pad, tokens)
        sequence.append(tokens)
        finished |= tokens == model.vocab.end
        if finished.all():
            break
    return _results(model, torch.stack(sequence, dim=1), log_probs)  # (B,T)


@torch.inference_mode()
def beam_search(model: CaptionNet, encoded: Encoded, beam_size: int = 3,
                length_penalty: float = 0.0, max_length: int | None = None) -> list[Decoded]:
    """Keep the `beam_size` best partial captions per image; all images advance together.

    A finished beam is carried along unchanged. At the end each image's beams are ranked
    by log_prob / length ** length_penalty (0: plain log-probability, 1: per word). Without
    a length penalty the search stops as soon as no open beam can overtake a finished one."""
    if model.training:  # served models already are: no walk over every module per batch
        model.eval()
    limit, k = max_length or model.config.max_length, beam_size
    b, device = len(encoded.summary), encoded.summary.device
    vocab = model.vocab
    regions = encoded.regions.repeat_interleave(k, dim=0)  # (B*K,N,E)
    state = model.initial_state(encoded.summary.repeat_interleave(k, dim=0))  # (L,B*K,H)
    tokens = torch.full((b * k,), vocab.start, dtype=torch.long, device=device)
    scores = torch.full((b, k), -math.inf, device=device)
    scores[:, 0] = 0.0  # the beams start identical: expand only the first
    finished = torch.zeros(b * k, dtype=torch.bool, device=device)
    lengths = torch.zeros(b * k, device=device)
    sequences = torch.empty((b * k, 0), dtype=torch.long, device=device)
    for t in range(limit + 1):
        logits, state = model.step(tokens, state, regions)  # (B*K,V)
        step = _word_log_probs(model, logits, last=t == limit)  # (B*K,V)
        carried = torch.full_like(step, -math.inf)
        carried[:, vocab.pad] = 0.0  # a finished beam's only continuation: <pad>, free
        step = torch.where(finished[:, None], carried, step)
        candidates = (scores[:, :, None] + step.view(b, k, -1)).view(b, -1)  # (B,K*V)
        scores, index = candidates.topk(k, dim=1)  # (B,K)
        vocab_size = step.shape[1]
        rows = (index // vocab_size + torch.arange(b, device=device)[:, None] * k).view(-1)  # (B*K,)
        tokens = (index % vocab_size).view(-1)  # (B*K,)
        state = (state[0][:, rows], state[1][:, rows])
        sequences = torch.cat([sequences[rows], tokens[:, None]], dim=1)  # (B*K,T)
        lengths = lengths[rows] + (~finished[rows]).float()
        finished = finished[rows] | (tokens == vocab.end)
        if finished.all() or (length_penalty == 0 and _settled(scores, finished.view(b, k))):
            break
    ranked = scores / lengths.view(b, k).clamp(min=1) ** length_penalty  # (B,K)
    best = ranked.argmax(dim=1) + torch.arange(b, device=device) * k  # (B,)
    return _results(model, sequences[best], scores.view(-1)[best])


def _settled(scores: torch.Tensor, finished: torch.Tensor) -> bool:
    """Whether every image's best finished beam outscores all its open beams (B,K); open
    beams only lose log-probability, so without a length penalty nothing can overtake."""
    done = scores.masked_fill(~finished, -math.inf).max(dim=1).values  # (B,)
    still_open = scores.masked_fill(finished, -math.inf).max(dim=1).values  # (B,)
    return bool((done >= still_open).all())


def decode(model: CaptionNet, encoded: Encoded, beam_size: int = 1, length_penalty: float = 0.0,
           max_length: int | None = None) -> list[Decoded]:
    """Greedy for beam size 1, beam search otherwise."""
    if beam_size <= 1:
        return greedy(model, encoded, max_length)
    return beam_search(model, encoded, beam_size, length_penalty, max_length)
