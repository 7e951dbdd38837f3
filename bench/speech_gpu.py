"""Speech benchmark on a GPU: openai-whisper's real-time factor and peak GPU memory.

The lent GPU machine (issue 5) has no network, no copy of this repo's virtual
environment and takes at most 64 MiB of files per call, so the work is split in three:

    # here: clips, gate bounds, int8-stored checkpoints and wheels into .gpu_speech/
    .venv/bin/python -m bench.speech_gpu prepare [--models-dir var/models]
    # there, once per model (each call carries .gpu_speech/common and one model folder):
    python3 bench/speech_gpu.py run --model tiny.en --out $OUT/tiny.en.json
    # here: merge the fetched JSON files into bench/results/speech_gpu.{json,md}
    .venv/bin/python -m bench.speech_gpu report FILE.json [FILE.json ...]

`run` needs only the standard library, numpy, torch and openai-whisper (plus its own
needs: more-itertools, tiktoken, numba, tqdm), never this repo's packages.

The clips and the decoding options are those of bench/speech.py: Piper reading nursery
sentences (~5 s and ~20 s), cut to their speech by the repo's gate (done here, at
prepare time), then `whisper.transcribe` with the options `OpenAIWhisper.recognise`
passes (language "en", temperature fallback, best_of 5, beam 1 as greedy decoding).
The model is built as `whisper.load_model` builds it (float32 parameters, cast to
float16 per layer when fp16=True). RTF = processing seconds / clip seconds.

Weight storage: the converted checkpoints (tiny.en 76 MB, base 145 MB, float16) do not
fit through the 64 MiB door, so `prepare` stores each 2-D+ weight as int8 with one
float32 scale per output row (symmetric, round-to-nearest), lzma-compressed; `run`
dequantises them to float16 before loading. The network that runs is the same size and
shape, so timings are unaffected; the weights differ by the rounding, so words may differ
slightly (`prepare` checks that on this machine's CPU and records it).
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CARRY = ROOT / ".gpu_speech"
MODELS = ("tiny.en", "base")
BEAMS = (1, 5)
CLIP_SECONDS = (5, 20)
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # DecodeOptions' default
WHEELS = ("openai-whisper==20250625", "more-itertools==10.8.0")


# ---------------------------------------------------------------- int8 storage


def quantize_state(state: dict[str, Any]) -> dict[str, Any]:
    """Weights of rank >= 2 -> int8 + per-row float32 scale; the rest kept as they are."""
    import torch

    packed: dict[str, Any] = {"int8": {}, "scale": {}, "plain": {}}
    for name, tensor in state.items():
        if tensor.ndim >= 2 and name.endswith(".weight"):
            rows = tensor.float().reshape(tensor.shape[0], -1)
            scale = rows.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            packed["int8"][name] = torch.round(rows / scale[:, None]).to(torch.int8).reshape(tensor.shape)
            packed["scale"][name] = scale
        else:
            packed["plain"][name] = tensor
    return packed


def dequantize_state(packed: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `quantize_state`, in float16 (the converted checkpoints' type)."""
    import torch

    state = dict(packed["plain"])
    for name, values in packed["int8"].items():
        scale = packed["scale"][name].reshape(-1, *([1] * (values.ndim - 1)))
        state[name] = (values.float() * scale).to(torch.float16)
    return state


def save_packed(checkpoint: dict[str, Any], path: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save({"dims": checkpoint["dims"], **quantize_state(checkpoint["model_state_dict"])}, buffer)
    path.write_bytes(lzma.compress(buffer.getvalue(), preset=6))


def load_packed(path: Path) -> dict[str, Any]:
    """An int8-stored checkpoint -> {"dims", "model_state_dict"} as whisper.load_model reads."""
    import torch

    packed = torch.load(io.BytesIO(lzma.decompress(path.read_bytes())), weights_only=True)
    return {"dims": packed["dims"], "model_state_dict": dequantize_state(packed)}


def build_model(checkpoint: dict[str, Any], device: str) -> Any:
    """As `whisper.load_model` does for a checkpoint file (float32 parameters)."""
    from whisper.model import ModelDimensions, Whisper

    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.to(device)


def recognise(model: Any, samples: np.ndarray, beam: int, fp16: bool) -> str:
    """`OpenAIWhisper.recognise` with bench/speech.py's options; the joined segment text."""
    import whisper

    result = whisper.transcribe(
        model,
        samples,
        verbose=None,
        temperature=TEMPERATURES,
        condition_on_previous_text=True,
        initial_prompt=None,
        language="en",
        beam_size=beam if beam > 1 else None,
        best_of=5,
        fp16=fp16,
    )
    return " ".join(s["text"].strip() for s in result["segments"] if s["text"].strip())


# ---------------------------------------------------------------- prepare (here)


def prepare(args: argparse.Namespace) -> None:
    import torch

    from bench.speech import make_clips
    from models.speech.audio import SpeechGate, speech_bounds
    from models.speech.locate import openai_checkpoint

    common = CARRY / "common"
    (common / "wheels").mkdir(parents=True, exist_ok=True)
    make_clips(args.models_dir, common)
    clips: dict[str, dict[str, Any]] = {}
    for seconds in CLIP_SECONDS:
        samples = np.load(common / f"clip{seconds}.npy")
        bounds = speech_bounds(samples, SpeechGate())
        assert bounds is not None, f"the gate heard no speech in clip{seconds}"
        clips[str(seconds)] = {"samples": int(samples.size), "speech": [int(b) for b in bounds]}
    (common / "clips.json").write_text(json.dumps(clips, indent=2) + "\n")
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(common / "wheels")]
    subprocess.run([*command, WHEELS[1]], check=True)
    # openai-whisper ships only an sdist: build its (pure Python) wheel here.
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(common / "wheels")]
    subprocess.run([*command, WHEELS[0]], check=True)

    torch.set_num_threads(args.threads)
    checks = {}
    for name in args.models:
        folder = CARRY / name
        folder.mkdir(exist_ok=True)
        original = torch.load(openai_checkpoint(args.models_dir, name), map_location="cpu", weights_only=True)
        packed_path = folder / f"{name}.int8.pt.xz"
        save_packed(original, packed_path)
        # Same clip, same options, on this CPU (float32): original against int8-stored.
        texts: dict[str, dict[str, str]] = {}
        for label, checkpoint in (("original", original), ("int8", load_packed(packed_path))):
            model = build_model(checkpoint, "cpu")
            texts[label] = {}
            for seconds in CLIP_SECONDS:
                first, last = clips[str(seconds)]["speech"]
                samples = np.load(common / f"clip{seconds}.npy")[first:last]
                texts[label][str(seconds)] = recognise(model, np.ascontiguousarray(samples), 1, fp16=False)
        checks[name] = {
            "packed_mb": round(packed_path.stat().st_size / 2**20, 1),
            "same_words_beam1_cpu": {s: texts["original"][s] == texts["int8"][s] for s in texts["int8"]},
            "texts": texts,
        }
        print(name, json.dumps(checks[name], indent=2), flush=True)
    (CARRY / "int8_check.json").write_text(json.dumps(checks, indent=2) + "\n")


# ---------------------------------------------------------------- run (there)


def time_runs(model: Any, samples: np.ndarray, beam: int, fp16: bool, repeats: int, cuda: bool) -> dict:
    import torch

    times, text = [], ""
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(repeats):
        began = time.perf_counter()
        text = recognise(model, samples, beam, fp16)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    row: dict[str, Any] = {
        "seconds_median": round(statistics.median(times), 4),
        "seconds_all": [round(t, 4) for t in times],
        "text": text,
        "words": len(text.split()),
    }
    if cuda:
        row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return row


def run(args: argparse.Namespace) -> None:
    import torch
    import whisper

    common = args.carry / "common"
    clips_meta = json.loads((common / "clips.json").read_text())
    clips = {}
    for seconds in CLIP_SECONDS:
        first, last = clips_meta[str(seconds)]["speech"]
        clips[seconds] = np.ascontiguousarray(np.load(common / f"clip{seconds}.npy")[first:last])
    started = time.perf_counter()
    checkpoint = load_packed(args.carry / args.model / f"{args.model}.int8.pt.xz")
    unpack_seconds = time.perf_counter() - started
    report: dict[str, Any] = {
        "model": args.model,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "whisper": whisper.__version__,
        "python": platform.python_version(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_cores": os.cpu_count(),
        "cpu_threads": args.cpu_threads,
        "unpack_seconds": round(unpack_seconds, 2),
        "repeats_gpu": args.repeats,
        "repeats_cpu": args.cpu_repeats,
        "runs": [],
    }
    devices = ["cuda"] if torch.cuda.is_available() else []
    if args.cpu_repeats > 0:
        devices.append("cpu")
    torch.set_num_threads(args.cpu_threads)
    for device in devices:
        cuda = device == "cuda"
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        began = time.perf_counter()
        model = build_model(checkpoint, device)
        if cuda:
            torch.cuda.synchronize()
            report["gpu_model_mb"] = round(torch.cuda.memory_allocated() / 2**20, 1)
        report[f"{device}_load_seconds"] = round(time.perf_counter() - began, 2)
        for beam in BEAMS:
            began = time.perf_counter()
            recognise(model, clips[CLIP_SECONDS[0]], beam, fp16=cuda)  # warm-up
            warmups = report.setdefault("warmup_seconds", {})
            warmups[f"{device}/beam{beam}"] = round(time.perf_counter() - began, 2)
            for seconds, samples in clips.items():
                repeats = args.repeats if cuda else args.cpu_repeats
                row = time_runs(model, samples, beam, cuda, repeats, cuda)
                row.update(device=device, beam=beam, clip_seconds=seconds, fp16=cuda)
                row["rtf"] = round(row["seconds_median"] / seconds, 5)
                report["runs"].append(row)
                print(json.dumps(row), flush=True)
        del model
        if cuda:
            torch.cuda.empty_cache()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


# ---------------------------------------------------------------- report (here)


def cpu_reference() -> dict[tuple[str, int, int], float]:
    """openai-whisper RTFs from bench/results/speech.json (this repo's CPU machine)."""
    path = RESULTS / "speech.json"
    if not path.is_file():
        return {}
    runs = [r for pair in json.loads(path.read_text())["pairs"] for r in pair["runs"]]
    return {(r["model"], r["beam"], r["clip_seconds"]): r["rtf"] for r in runs if r["backend"] == "openai"}


def word_diff(original: str, other: str) -> str:
    """'same words', or how many of the original's words changed and which."""
    import difflib

    a, b = original.split(), other.split()
    changes = [
        f"{' '.join(a[i1:i2]) or '-'} -> {' '.join(b[j1:j2]) or '-'}"
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b).get_opcodes()
        if tag != "equal"
    ]
    return f"{len(changes)} change(s) in {len(a)} words ({'; '.join(changes)})" if changes else "same words"


def report(args: argparse.Namespace) -> None:
    results = [json.loads(Path(p).read_text()) for p in args.files]
    check_path = CARRY / "int8_check.json"
    checks = json.loads(check_path.read_text()) if check_path.is_file() else {}
    reference = cpu_reference()
    combined = {"device": args.device, "notes": args.note, "commands": COMMANDS, "int8_check": checks}
    combined["models"] = results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speech_gpu.json").write_text(json.dumps(combined, indent=2) + "\n")
    first = results[0]
    lines = [
        "# Speech benchmark (GPU): openai-whisper",
        "",
        f"Device: {args.device}, {first['gpu']}; torch {first['torch']} (CUDA {first['cuda']}), "
        f"openai-whisper {first['whisper']}, Python {first['python']}.",
        f"GPU: fp16 decoding, median of {first['repeats_gpu']} runs after one warm-up per beam size. "
        f"Device CPU for contrast: float32, {first['cpu_threads']} threads of its "
        f"{first['cpu_cores']} cores, "
        f"median of {first['repeats_cpu']}.",
        "Clips and options as in bench/speech.py (Piper, ~5 s and ~20 s, cut by the speech gate here;",
        "language en, temperature fallback, best_of 5; beam 1 = greedy). RTF = processing s / clip s.",
        "",
        "| model | beam | clip | GPU RTF | GPU s | peak GPU MB | device-CPU RTF | repo-CPU RTF "
        "| repo-CPU / GPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        index = {(r["device"], r["beam"], r["clip_seconds"]): r for r in result["runs"]}
        for beam in BEAMS:
            for seconds in CLIP_SECONDS:
                gpu = index.get(("cuda", beam, seconds))
                cpu = index.get(("cpu", beam, seconds))
                ref = reference.get((result["model"], beam, seconds))
                cells = [
                    f"{gpu['rtf']:.4f}" if gpu else "-",
                    f"{gpu['seconds_median']:.3f}" if gpu else "-",
                    f"{gpu['peak_gpu_mb']:.0f}" if gpu else "-",
                    f"{cpu['rtf']:.3f}" if cpu else "-",
                    f"{ref:.3f}" if ref is not None else "-",
                    f"{ref / gpu['rtf']:.0f}x" if gpu and ref is not None else "-",
                ]
                lines.append(f"| {result['model']} | {beam} | {seconds} s | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Repo-CPU: the openai column of bench/results/speech.md (this repo's 2-core machine,",
        "float32, 2 threads). It is another machine and the clips were synthesised again (same",
        "sentences and voice), so the ratio says how much faster the GPU path is, not a controlled",
        "comparison. Peak GPU MB: torch.cuda.max_memory_allocated over that clip's runs (weights",
        "included); model alone on the GPU: "
        + ", ".join(f"{r['model']} {r['gpu_model_mb']:.0f} MB" for r in results if "gpu_model_mb" in r)
        + " (float32 parameters, as whisper.load_model keeps them).",
        "",
        "Warm-up: one run of the 5 s clip per beam size (GPU: "
        + ", ".join(f"{r['model']} {r['warmup_seconds']['cuda/beam1']} s" for r in results)
        + " for the first, beam 1). The first timed run of the 20 s clip, a length the process had"
        " not seen, was slower still and is left out by the median: "
        + "; ".join(
            f"{r['model']} beam {row['beam']} {row['seconds_all'][0]:.1f} s"
            for r in results
            for row in r["runs"]
            if row["device"] == "cuda" and row["seconds_all"][0] > 2 * row["seconds_median"]
        )
        + " (every run is in speech_gpu.json).",
        "",
        *[line for note in args.note for line in (note, "")],
        "## Transcripts (GPU)",
        "",
    ]
    for result in results:
        for row in result["runs"]:
            if row["device"] == "cuda":
                where = f"{result['model']}, beam {row['beam']}, {row['clip_seconds']} s"
                lines.append(f'- {where}: "{row["text"]}"')
    lines += [
        "",
        "## Weight storage caveat",
        "",
        "The converted float16 checkpoints do not fit the 64 MiB a call may carry, so each weight",
        "matrix travelled as int8 with a float32 scale per output row (lzma-compressed) and was",
        "dequantised to float16 before loading. The network that ran has the same shapes and",
        "types as the real one, so the timings stand; its weights differ by the rounding, so its",
        "words may differ slightly from the real checkpoint's. Checked here on CPU (float32, beam 1):",
        "",
    ]
    for name, check in checks.items():
        texts = check["texts"]
        same = "; ".join(
            f"{s} s: {word_diff(texts['original'][s], texts['int8'][s])}" for s in texts["original"]
        )
        lines.append(f"- {name} ({check['packed_mb']} MiB stored), original vs int8-stored: {same}")
    lines += ["", "## Reproduce", "", "```", *COMMANDS, "```", ""]
    (RESULTS / "speech_gpu.md").write_text("\n".join(lines))
    print((RESULTS / "speech_gpu.md").read_text())


COMMANDS = [
    "# here (repo venv): clips, gate bounds, int8-stored checkpoints, wheels -> .gpu_speech/",
    ".venv/bin/python -m bench.speech_gpu prepare",
    "# on the GPU machine, one call per model, carrying .gpu_speech/common and .gpu_speech/MODEL:",
    "python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site"
    " .gpu_speech/common/wheels/*.whl",
    "PYTHONPATH=/tmp/site python3 bench/speech_gpu.py run --model MODEL --out $OUT/MODEL.json",
    "# here: merge",
    ".venv/bin/python -m bench.speech_gpu report tiny.en.json base.json --device 'DEVICE'",
]


def main(args: argparse.Namespace) -> None:
    if args.command is None:  # `python -m bench` runs every benchmark on its defaults
        print("speech_gpu needs the lent GPU machine: see bench/results/speech_gpu.md to run it")
        return
    {"prepare": prepare, "run": run, "report": report}[args.command](args)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    ready = commands.add_parser("prepare", help="here: clips, int8-stored checkpoints, wheels")
    ready.add_argument("--models-dir", type=Path, default=Path("var/models"))
    ready.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ready.add_argument("--threads", type=int, default=2)
    go = commands.add_parser("run", help="there: time one model on the GPU (and the CPU)")
    go.add_argument("--model", required=True, choices=MODELS)
    go.add_argument("--carry", type=Path, default=CARRY)
    go.add_argument("--out", type=Path, required=True)
    go.add_argument("--repeats", type=int, default=5)
    go.add_argument("--cpu-repeats", type=int, default=1, help="0 skips the CPU contrast")
    go.add_argument("--cpu-threads", type=int, default=8)
    merge = commands.add_parser("report", help="here: merge run outputs into bench/results")
    merge.add_argument("files", nargs="+")
    merge.add_argument("--device", default="nvidia-h100-x1")
    merge.add_argument("--note", action="append", default=[], help="a paragraph to add (repeatable)")
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
