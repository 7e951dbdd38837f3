"""ImageNet backbones behind one door: `load_backbone(name, weights=...)`.

Weights are always read from a local file; nothing downloads at run time. The torchvision
constructors build each network and load the state dict from disk, then the feature
extractor is regrouped into a few `layer_groups` (input -> output) so training can give
each depth its own learning rate. The mood classifier and the captioner share this.

    weights="imagenet"  the torchvision ImageNet file under `weights_dir/backbones/`
    weights=Path(...)   any file holding a torchvision state dict for that architecture
    weights=None        random initialisation, only when asked for explicitly
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torchvision import models as tv

from models.files import sha256_file

# Where Cradle keeps weights unless told otherwise (the settings default `models.dir`).
DEFAULT_MODELS_DIR = Path("var/models")

Weights = Literal["imagenet"] | Path | str | None


@dataclass(frozen=True)
class Backbone:
    name: str
    features: nn.Module  # (B,3,H,W) -> feature map (B,C,h,w)
    out_channels: int
    layer_groups: tuple[nn.Module, ...]  # input -> output, for discriminative LRs


@dataclass(frozen=True)
class _Spec:
    build: Callable[[], nn.Module]  # torchvision constructor with weights=None
    groups: Callable[[Any], list[nn.Module]]  # the feature layers, cut into groups
    out_channels: int
    filename: str  # torchvision's ImageNet file name (its 8 hex digits start the sha256)
    url: str  # where a machine with internet can fetch it
    sha256: str | None = None  # full checksum where Cradle knows it


def _resnet_groups(net: Any) -> list[nn.Module]:
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1)
    return [stem, net.layer2, net.layer3, net.layer4]


def _cut(cuts: Sequence[int]) -> Callable[[Any], list[nn.Module]]:
    def groups(net: Any) -> list[nn.Module]:
        layers = list(net.features.children())
        bounds = [0, *cuts, len(layers)]
        return [nn.Sequential(*layers[a:b]) for a, b in pairwise(bounds)]

    return groups


_TORCHVISION = "https://download.pytorch.org/models/"
SPECS: dict[str, _Spec] = {
    "mobilenet_v2": _Spec(
        lambda: tv.mobilenet_v2(weights=None), _cut((4, 7, 14)), 1280,
        "mobilenet_v2-b0353104.pth", _TORCHVISION + "mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    ),
    "resnet18": _Spec(
        lambda: tv.resnet18(weights=None), _resnet_groups, 512,
        "resnet18-f37072fd.pth", _TORCHVISION + "resnet18-f37072fd.pth",
    ),
    "resnet34": _Spec(
        lambda: tv.resnet34(weights=None), _resnet_groups, 512,
        "resnet34-b627a593.pth", _TORCHVISION + "resnet34-b627a593.pth",
    ),
    "resnet50": _Spec(
        lambda: tv.resnet50(weights=None), _resnet_groups, 2048,
        "resnet50-0676ba61.pth", _TORCHVISION + "resnet50-0676ba61.pth",
    ),
    "efficientnet_b0": _Spec(
        lambda: tv.efficientnet_b0(weights=None), _cut((3, 5, 7)), 1280,
        "efficientnet_b0_rwightman-7f5810bc.pth",
        _TORCHVISION + "efficientnet_b0_rwightman-7f5810bc.pth",
    ),
}


class BackboneWeightsError(FileNotFoundError):
    """A weights file that is missing, corrupt or for another architecture."""


def weights_path(name: str, weights_dir: Path | None = None) -> Path:
    """Where the ImageNet weights of backbone `name` are expected."""
    return (weights_dir or DEFAULT_MODELS_DIR) / "backbones" / _spec(name).filename


def load_backbone(
    name: str = "mobilenet_v2", weights: Weights = "imagenet", *, weights_dir: Path | None = None
) -> Backbone:
    """Build backbone `name` with `weights` ("imagenet", a file, or None for random)."""
    spec = _spec(name)
    net = spec.build()
    if weights is not None:
        path = weights_path(name, weights_dir) if weights == "imagenet" else Path(weights)
        _check_file(name, spec, path, explicit=weights != "imagenet")
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise BackboneWeightsError(f"{path} does not hold {name} weights: {exc}") from exc
    groups = spec.groups(net)
    return Backbone(name, nn.Sequential(*groups), spec.out_channels, tuple(groups))


def _spec(name: str) -> _Spec:
    if name not in SPECS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(SPECS)}")
    return SPECS[name]


def _check_file(name: str, spec: _Spec, path: Path, *, explicit: bool) -> None:
    if not path.is_file():
        hint = (
            "`cradle assets fetch` puts it there"
            if name == "mobilenet_v2"
            else f"download {spec.url} on a machine with internet and copy it there"
        )
        where = "the weights file you named" if explicit else f"the ImageNet weights file for {name}"
        raise BackboneWeightsError(f"{where} is missing: put {spec.filename} at {path} ({hint})")
    if path.name != spec.filename:
        return  # a file of the family's own: nothing to compare against
    want = spec.sha256 or spec.filename.rsplit("-", 1)[1].split(".")[0]
    actual = sha256_file(path)
    if not actual.startswith(want):
        raise BackboneWeightsError(
            f"{path} has sha256 {actual}, expected {want}: the file is corrupt or not "
            "the one its name says; fetch it again"
        )
