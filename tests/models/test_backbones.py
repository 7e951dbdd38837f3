from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

from models.backbones import SPECS, BackboneWeightsError, load_backbone, weights_path


@pytest.mark.parametrize("name", sorted(SPECS))
def test_random_backbone_feature_map_and_groups(name: str) -> None:
    backbone = load_backbone(name, weights=None)
    features = backbone.features.eval()(torch.randn(2, 3, 64, 64))
    assert features.shape[:2] == (2, backbone.out_channels)
    assert features.dim() == 4
    grouped = {id(p) for group in backbone.layer_groups for p in group.parameters()}
    assert grouped == {id(p) for p in backbone.features.parameters()}
    assert len(backbone.layer_groups) >= 3


def test_missing_mobilenet_weights_say_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(BackboneWeightsError) as caught:
        load_backbone("mobilenet_v2", weights_dir=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "backbones" / "mobilenet_v2-b0353104.pth") in message
    assert "cradle assets fetch" in message


def test_missing_resnet_weights_name_the_download(tmp_path: Path) -> None:
    with pytest.raises(BackboneWeightsError, match=r"resnet18-f37072fd\.pth"):
        load_backbone("resnet18", weights_dir=tmp_path)


def test_unknown_backbone_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="mobilenet_v2"):
        load_backbone("vgg11", weights=None)


def test_imagenet_mobilenet_is_checksummed_and_loaded(models_dir: Path, tmp_path: Path) -> None:
    reference = torch.load(weights_path("mobilenet_v2", models_dir), weights_only=True)
    backbone = load_backbone("mobilenet_v2", weights_dir=models_dir)
    first_conv = next(backbone.features.parameters())
    assert torch.equal(first_conv, reference["features.0.0.weight"])

    corrupt = weights_path("mobilenet_v2", tmp_path)
    corrupt.parent.mkdir(parents=True)
    data = bytearray(weights_path("mobilenet_v2", models_dir).read_bytes())
    data[-100] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(BackboneWeightsError, match="sha256"):
        load_backbone("mobilenet_v2", weights_dir=tmp_path)


def test_a_weights_file_of_ones_own(tmp_path: Path) -> None:
    state = resnet18(weights=None).state_dict()
    path = tmp_path / "family-resnet.pth"
    torch.save(state, path)
    loaded = load_backbone("resnet18", weights=path)
    assert torch.equal(next(loaded.features.parameters()), state["conv1.weight"])
    with pytest.raises(BackboneWeightsError, match="does not hold mobilenet_v2"):
        load_backbone("mobilenet_v2", weights=path)
