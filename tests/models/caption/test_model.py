from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.caption.decoding import beam_search, greedy
from models.caption.model import CaptionNet, Encoded, load_model, save_model


@pytest.mark.parametrize("random_model", [False, True], indirect=True, ids=["plain", "attention"])
def test_encoder_and_decoder_shapes(random_model: CaptionNet) -> None:
    vocab, config = random_model.vocab, random_model.config
    encoded = random_model.encode(torch.randn(3, 3, 64, 64))
    cells = 2 * 2  # MobileNetV2 downsamples 32 times
    assert encoded.regions.shape == (3, cells, config.embed_size)
    assert encoded.summary.shape == (3, config.embed_size)
    captions = torch.tensor([vocab.encode("the baby is sleeping in the cot"),
                             [*vocab.encode("the cot is empty"), 0, 0, 0],
                             [*vocab.encode("the cot"), 0, 0, 0, 0, 0]])
    lengths = (captions != vocab.pad).sum(dim=1)
    logits = random_model(encoded, captions, lengths)
    assert logits.shape == (3, captions.shape[1] - 1, len(vocab))


def test_decoder_starts_from_a_shared_feature_map(random_model: CaptionNet) -> None:
    images = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        shared = random_model.caption_features(random_model.backbone(images))
        own = random_model.encode(images)
    assert torch.allclose(shared.regions, own.regions)


@pytest.mark.parametrize("random_model", [False, True], indirect=True, ids=["plain", "attention"])
def test_beam_one_is_greedy(random_model: CaptionNet) -> None:
    encoded = random_model.encode(torch.randn(4, 3, 64, 64))
    for a, b in zip(greedy(random_model, encoded, 8), beam_search(random_model, encoded, 1, max_length=8),
                    strict=True):
        assert a.tokens == b.tokens
        assert a.log_prob == pytest.approx(b.log_prob, abs=1e-4)


def _one(encoded: Encoded, i: int) -> Encoded:
    return Encoded(encoded.regions[i:i + 1], encoded.summary[i:i + 1])


@pytest.mark.parametrize("penalty", [0.0, 0.7])
@pytest.mark.parametrize("random_model", [False, True], indirect=True, ids=["plain", "attention"])
def test_batched_beam_search_equals_one_image_at_a_time(random_model: CaptionNet, penalty: float) -> None:
    encoded = random_model.encode(torch.randn(5, 3, 64, 64))
    batched = beam_search(random_model, encoded, 3, length_penalty=penalty, max_length=8)
    alone = [beam_search(random_model, _one(encoded, i), 3, length_penalty=penalty, max_length=8)[0]
             for i in range(5)]
    assert [d.tokens for d in batched] == [d.tokens for d in alone]
    assert [d.log_prob for d in batched] == pytest.approx([d.log_prob for d in alone], abs=1e-4)


def test_decoded_captions_never_hold_special_words(random_model: CaptionNet) -> None:
    vocab = random_model.vocab
    for decoded in beam_search(random_model, random_model.encode(torch.randn(3, 3, 64, 64)), 4):
        assert not {vocab.pad, vocab.start, vocab.end} & set(decoded.tokens)
        assert len(decoded.tokens) <= random_model.config.max_length
        assert 0.0 < decoded.confidence <= 1.0


def test_checkpoint_round_trip(random_model: CaptionNet, tmp_path: Path) -> None:
    path = save_model(random_model, tmp_path / "caption.pt", metrics={"bleu4": 0.1})
    loaded = load_model(path, "cpu")
    assert loaded.config == random_model.config and loaded.vocab.words == random_model.vocab.words
    assert loaded.version.startswith("caption-")
    images = torch.randn(2, 3, 64, 64)
    assert [d.tokens for d in greedy(loaded, loaded.encode(images))] == \
        [d.tokens for d in greedy(random_model, random_model.encode(images))]


def test_missing_checkpoint_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cradle caption demo"):
        load_model(tmp_path / "nope.pt")
