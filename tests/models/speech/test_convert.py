"""CTranslate2 -> openai-whisper conversion: the checkpoint loads and the split is exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import whisper

from models.speech.convert import (
    ConversionError,
    convert,
    read_ct2_variables,
    whisper_dims,
    whisper_state_dict,
)


@pytest.fixture(scope="module")
def tiny_variables(models_dir: Path) -> dict[str, np.ndarray]:
    return read_ct2_variables(models_dir / "whisper/tiny.en-ct2/model.bin")


def test_dims_of_tiny_en(tiny_variables: dict[str, np.ndarray]) -> None:
    dims = whisper_dims(tiny_variables)
    assert (dims.n_mels, dims.n_audio_ctx, dims.n_text_ctx) == (80, 1500, 448)
    assert (dims.n_audio_state, dims.n_audio_head, dims.n_audio_layer) == (384, 6, 4)
    assert (dims.n_text_state, dims.n_text_head, dims.n_text_layer) == (384, 6, 4)
    assert dims.n_vocab == 51864  # English-only


def test_fused_projections_split_back_exactly(tiny_variables: dict[str, np.ndarray]) -> None:
    state = whisper_state_dict(tiny_variables)
    self_qkv = tiny_variables["decoder/layer_2/self_attention/linear_0/weight"]
    rebuilt = torch.cat([state[f"decoder.blocks.2.attn.{p}.weight"] for p in ("query", "key", "value")])
    assert torch.equal(rebuilt, torch.from_numpy(self_qkv.copy()))
    cross_kv = tiny_variables["decoder/layer_2/attention/linear_1/weight"]
    rebuilt = torch.cat([state[f"decoder.blocks.2.cross_attn.{p}.weight"] for p in ("key", "value")])
    assert torch.equal(rebuilt, torch.from_numpy(cross_kv.copy()))
    # Whisper's key projection has no bias: CTranslate2 stored zeros for it.
    bias = tiny_variables["encoder/layer_0/self_attention/linear_0/bias"].reshape(3, -1)
    assert not bias[1].any() and bias[0].any()
    assert "encoder.blocks.0.attn.key.bias" not in state


def test_checkpoint_loads_in_openai_whisper(models_dir: Path, tmp_path: Path) -> None:
    checkpoint = convert(models_dir / "whisper/tiny.en-ct2", tmp_path / "tiny.en.pt")
    model = whisper.load_model(str(checkpoint), device="cpu")  # strict state-dict load
    assert not model.is_multilingual
    assert model.dims.n_text_layer == 4
    tied = model.decoder.token_embedding.weight  # the output projection shares it
    assert tied.dtype == torch.float32 and tied.shape == (51864, 384)
    assert list(tmp_path.iterdir()) == [checkpoint]  # no temporary file left behind


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="cradle assets fetch"):
        convert(tmp_path, tmp_path / "out.pt")


def test_truncated_model_bin(models_dir: Path, tmp_path: Path) -> None:
    source = models_dir / "whisper/tiny.en-ct2/model.bin"
    with source.open("rb") as stream:
        (tmp_path / "model.bin").write_bytes(stream.read(1 << 20))
    with pytest.raises(ConversionError, match="truncated"):
        read_ct2_variables(tmp_path / "model.bin")


def test_other_ctranslate2_models_are_refused(tmp_path: Path) -> None:
    import struct

    name = b"TransformerSpec\0"
    header = struct.pack("<IH", 6, len(name)) + name + struct.pack("<II", 1, 0)
    (tmp_path / "model.bin").write_bytes(header)
    with pytest.raises(ConversionError, match="not WhisperSpec"):
        read_ct2_variables(tmp_path / "model.bin")
