"""CTranslate2 Whisper model -> openai-whisper checkpoint.

The offline registry packages carry Whisper only in CTranslate2's format (`model.bin`),
which faster-whisper reads directly. openai-whisper loads a `torch.save`d dict
`{"dims": ..., "model_state_dict": ...}`, so this module reads `model.bin` and renames
and splits its tensors into that layout.

`model.bin` (see CTranslate2's `python/ctranslate2/specs/model_spec.py::_serialize`
and `src/models/model.cc::Model::load`; CTranslate2's Python package has no reader):

    u32 binary version, str spec name, u32 spec revision, u32 variable count,
    per variable: str name, u8 rank, u32 dims[rank], u8 dtype id, u32 byte count, bytes
    u32 alias count, per alias: str alias, str variable name
    str = u16 length (including a trailing NUL), utf-8 bytes, NUL

CTranslate2 fuses the attention projections that openai-whisper keeps apart: the
self-attention `linear_0` is [query; key; value] stacked on the output axis, the
cross-attention `linear_0` is the query and `linear_1` is [key; value]. Whisper's key
projection has no bias, so CTranslate2 stores zeros there, which are dropped here.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch loads lazily: the gateway imports this package only to decode
    import torch

SUPPORTED_SPEC = "WhisperSpec"
MAX_BINARY_VERSION = 6
# Type ids as CTranslate2 numbers them (model_spec.py::_dtype_to_type_id).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


class ConversionError(RuntimeError):
    """The CTranslate2 folder is not a Whisper model this converter understands."""


@dataclass(frozen=True)
class WhisperDims:
    """The fields of openai-whisper's `ModelDimensions`, read off the tensor shapes."""

    n_mels: int  # mel bins the encoder's first convolution expects (80 or 128)
    n_audio_ctx: int  # encoder positions: 1500 frames for 30 s of audio
    n_audio_state: int  # encoder width
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int  # 51864 for English-only models, 51865+ for multilingual ones
    n_text_ctx: int  # decoder positions (448)
    n_text_state: int  # decoder width
    n_text_head: int
    n_text_layer: int


class _Cursor:
    """Reads `model.bin` front to back; running off the end is a truncated file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = memoryview(path.read_bytes())
        self.offset = 0

    def take(self, size: int) -> memoryview:
        if self.offset + size > len(self.data):
            raise ConversionError(f"{self.path} is truncated at byte {self.offset}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, layout: str) -> tuple[int, ...]:
        return struct.unpack(layout, self.take(struct.calcsize(layout)))

    def string(self) -> str:
        (length,) = self.unpack("<H")
        return bytes(self.take(length)[:-1]).decode("utf-8")  # drop the trailing NUL


def read_ct2_variables(model_bin: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 `model.bin`, aliases resolved, int8 dequantised.

    Weights come back in their stored float type (float16 or float32) with their
    stored shapes; scalars (head counts, flags) as 0-d arrays.
    """
    cursor = _Cursor(model_bin)
    (version,) = cursor.unpack("<I")
    if not 4 <= version <= MAX_BINARY_VERSION:
        raise ConversionError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
    spec = cursor.string()
    if spec != SUPPORTED_SPEC:
        raise ConversionError(f"{model_bin}: holds a {spec!r} model, not {SUPPORTED_SPEC}")
    cursor.unpack("<I")  # spec revision: the Whisper layout is the same in 1 to 3
    variables: dict[str, np.ndarray] = {}
    for _ in range(cursor.unpack("<I")[0]):
        name = cursor.string()
        (rank,) = cursor.unpack("<B")
        shape = cursor.unpack(f"<{rank}I")
        type_id, size = cursor.unpack("<BI")
        if type_id >= len(_DTYPES):
            raise ConversionError(f"{model_bin}: unknown type id {type_id} for {name}")
        raw = cursor.take(size)
        if _DTYPES[type_id] == "bfloat16":  # numpy has no bfloat16: widen through torch
            import torch

            tensor = torch.frombuffer(bytearray(raw), dtype=torch.bfloat16)
            variables[name] = tensor.float().numpy().reshape(shape)
        else:
            variables[name] = np.frombuffer(raw, dtype=_DTYPES[type_id]).reshape(shape)
    for _ in range(cursor.unpack("<I")[0]):
        alias, target = cursor.string(), cursor.string()
        variables[alias] = variables[target]
    return _dequantize(variables)


def _dequantize(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # int8/int16 weights carry a per-row `<name>_scale`: stored = round(weight * scale).
    out: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        if name.endswith("_scale"):
            continue
        scale = variables.get(name + "_scale")
        if scale is not None and value.dtype in (np.int8, np.int16):
            scale = scale.astype(np.float32)
            value = value.astype(np.float32) / (scale[:, None] if scale.ndim else scale)
        out[name] = value
    return out


def _count_layers(variables: dict[str, np.ndarray], prefix: str) -> int:
    pattern = re.compile(rf"{prefix}/layer_(\d+)/")  # not "layer_norm/"
    return len({match[1] for name in variables if (match := pattern.match(name))})


def whisper_dims(variables: dict[str, np.ndarray]) -> WhisperDims:
    """The openai-whisper model dimensions implied by the CTranslate2 variables."""
    conv1 = variables["encoder/conv1/weight"]  # (n_audio_state, n_mels, 3)
    audio_positions = variables["encoder/position_encodings/encodings"]  # (1500, n_state)
    text_positions = variables["decoder/position_encodings/encodings"]  # (448, n_state)
    return WhisperDims(
        n_mels=int(conv1.shape[1]),
        n_audio_ctx=int(audio_positions.shape[0]),
        n_audio_state=int(conv1.shape[0]),
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=_count_layers(variables, "encoder"),
        n_vocab=int(variables["decoder/embeddings/weight"].shape[0]),
        n_text_ctx=int(text_positions.shape[0]),
        n_text_state=int(text_positions.shape[1]),
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=_count_layers(variables, "decoder"),
    )


def _linear(variables: dict[str, np.ndarray], ct2: str, ours: str) -> dict[str, np.ndarray]:
    return {f"{ours}.weight": variables[f"{ct2}/weight"], f"{ours}.bias": variables[f"{ct2}/bias"]}


def _norm(variables: dict[str, np.ndarray], ct2: str, ours: str) -> dict[str, np.ndarray]:
    return {f"{ours}.weight": variables[f"{ct2}/gamma"], f"{ours}.bias": variables[f"{ct2}/beta"]}


def _attention(variables: dict[str, np.ndarray], ct2: str, ours: str, cross: bool) -> dict[str, np.ndarray]:
    """Split CTranslate2's fused projections into query / key / value / out."""
    if cross:
        query_w, query_b = variables[f"{ct2}/linear_0/weight"], variables[f"{ct2}/linear_0/bias"]
        kv_w, kv_b = variables[f"{ct2}/linear_1/weight"], variables[f"{ct2}/linear_1/bias"]
        key_w, value_w = np.split(kv_w, 2)  # (2 * n_state, n_state) -> 2 x (n_state, n_state)
        _, value_b = np.split(kv_b, 2)
        out = f"{ct2}/linear_2"
    else:
        qkv_w, qkv_b = variables[f"{ct2}/linear_0/weight"], variables[f"{ct2}/linear_0/bias"]
        query_w, key_w, value_w = np.split(qkv_w, 3)  # (3 * n_state, n_state) -> 3 x square
        query_b, _, value_b = np.split(qkv_b, 3)
        out = f"{ct2}/linear_1"
    return {
        f"{ours}.query.weight": query_w,
        f"{ours}.query.bias": query_b,
        f"{ours}.key.weight": key_w,  # openai-whisper's key projection has no bias
        f"{ours}.value.weight": value_w,
        f"{ours}.value.bias": value_b,
        **_linear(variables, out, f"{ours}.out"),
        **_norm(variables, f"{ct2}/layer_norm", f"{ours}_ln"),
    }


def _block(variables: dict[str, np.ndarray], ct2: str, ours: str, cross: bool) -> dict[str, np.ndarray]:
    state = _attention(variables, f"{ct2}/self_attention", f"{ours}.attn", cross=False)
    if cross:
        state |= _attention(variables, f"{ct2}/attention", f"{ours}.cross_attn", cross=True)
    state |= _linear(variables, f"{ct2}/ffn/linear_0", f"{ours}.mlp.0")
    state |= _linear(variables, f"{ct2}/ffn/linear_1", f"{ours}.mlp.2")
    state |= _norm(variables, f"{ct2}/ffn/layer_norm", f"{ours}.mlp_ln")
    return state


def whisper_state_dict(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """openai-whisper's `model_state_dict` built from CTranslate2 variables."""
    import torch

    dims = whisper_dims(variables)
    state: dict[str, np.ndarray] = {
        "encoder.positional_embedding": variables["encoder/position_encodings/encodings"],
        "decoder.token_embedding.weight": variables["decoder/embeddings/weight"],
        "decoder.positional_embedding": variables["decoder/position_encodings/encodings"],
    }
    for conv in ("conv1", "conv2"):
        state |= {
            f"encoder.{conv}.weight": variables[f"encoder/{conv}/weight"],
            f"encoder.{conv}.bias": variables[f"encoder/{conv}/bias"],
        }
    state |= _norm(variables, "encoder/layer_norm", "encoder.ln_post")
    state |= _norm(variables, "decoder/layer_norm", "decoder.ln")
    for i in range(dims.n_audio_layer):
        state |= _block(variables, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    for i in range(dims.n_text_layer):
        state |= _block(variables, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    # Copy out of the read-only file buffer; np.split views would otherwise share it.
    return {name: torch.from_numpy(np.ascontiguousarray(value).copy()) for name, value in state.items()}


def convert(ct2_dir: Path, checkpoint: Path) -> Path:
    """Write an openai-whisper checkpoint for the CTranslate2 model in `ct2_dir`.

    The tensors keep their stored precision (float16 for the registry models);
    `whisper.load_model(checkpoint)` casts them to the model's float32 parameters.
    The file appears atomically, so a concurrent reader never sees half of it.
    """
    import torch

    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise ConversionError(f"no model.bin in {ct2_dir}: run `cradle assets fetch` first")
    variables = read_ct2_variables(model_bin)
    payload = {"dims": asdict(whisper_dims(variables)), "model_state_dict": whisper_state_dict(variables)}
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    partial = checkpoint.with_name(f".{checkpoint.name}.{os.getpid()}.tmp")
    torch.save(payload, partial)
    partial.replace(checkpoint)
    return checkpoint
