"""Decode-and-batch as pure logic: one result per frame, in order, a failure for each bad one."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms import functional as TF

from models.batches import decode, in_batches


def _frames(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        paths.append(folder / f"frame{i}.png")
        Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(paths[-1])
    return paths


def test_each_frame_gets_one_result_in_order_and_bad_ones_say_why(tmp_path: Path) -> None:
    good = _frames(tmp_path, 5)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    paths = [good[0], tmp_path / "broken.png", *good[1:3], tmp_path / "absent.png", *good[3:]]
    passes: list[int] = []

    def forward(images: torch.Tensor, decoded: list[Path]) -> list[tuple[str, Path]]:
        passes.append(len(images))
        assert images.shape[1:] == (3, 8, 8) and len(decoded) == len(images)
        return [("ok", p) for p in decoded]

    results = in_batches(paths, 3, TF.to_tensor, forward, lambda p, e: ("failed", p, e))
    assert [r[1] for r in results] == paths
    assert [r[0] for r in results] == ["ok", "failed", "ok", "ok", "failed", "ok", "ok"]
    assert passes == [2, 2, 1]  # batches of three paths; only the decodable frames go through
    assert all(str(r[1]) in r[2] for r in results if r[0] == "failed")
    assert in_batches([], 3, TF.to_tensor, forward, lambda p, e: e) == []


def test_a_batch_of_undecodable_frames_runs_no_pass(tmp_path: Path) -> None:
    decoded = decode([tmp_path / "absent.png"], TF.to_tensor)
    assert decoded.images is None and decoded.rows == [] and "absent.png" in decoded.errors[0]
