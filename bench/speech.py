"""Speech benchmark: Whisper real-time factor and peak memory, and the voice path by stage.

    .venv/bin/python -m bench.speech [--models-dir var/models] [--repeats 3] [--threads 2]

ASR: openai-whisper (converted checkpoint, float32) against faster-whisper (int8 on CPU)
at the same beam size (1 and 5), for tiny.en and base, on ~5 s and ~20 s clips of real
speech (the Piper voice reading nursery sentences, so the decoder has real work to do).
Each backend/model pair runs in its own process so its peak resident memory (model,
buffers and all) is its own. RTF = processing seconds / audio seconds (lower is better).

Voice path: decode of a 5 s webm/opus upload, speech gate, ASR (faster, tiny.en and
base), and a spoken reply (Piper, cache cold), p50/p95 over repeats.

Results go to bench/results/speech.json and bench/results/speech.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from models.speech import AudioLimits, Backend, DecodeOptions, Speaker, load_model, make_engine
from models.speech.asr import transcribe_samples
from models.speech.audio import SAMPLE_RATE, SpeechGate, decode_audio, speech_bounds

RESULTS = Path(__file__).resolve().parent / "results"
SENTENCES = [
    "The baby woke up at seven and had a full bottle of milk.",
    "She played with the wooden blocks for twenty minutes and laughed at the puppet.",
    "After lunch she slept for an hour and a half in her cot.",
    "Would you like to sing the itsy bitsy spider or play peekaboo before the bath?",
    "Remember to bring the blue blanket and the teddy bear when you go to grandma's house.",
    "Tonight we will read the story about the hungry caterpillar and then turn off the light.",
]
CLIP_SECONDS = (5, 20)
BACKENDS = ("openai", "faster")
MODELS = ("tiny.en", "base")
BEAMS = (1, 5)
REPLY = "Of course. Let's play peekaboo with the blue blanket."


def speech_clip(speaker: Speaker, seconds: float) -> np.ndarray:
    """Piper reading sentences until the clip lasts `seconds`, cut there (16 kHz mono)."""
    pieces, total, index = [], 0, 0
    while total < seconds * SAMPLE_RATE:
        audio = decode_audio(speaker.synthesize(SENTENCES[index % len(SENTENCES)]), AudioLimits())
        pieces += [audio, np.zeros(SAMPLE_RATE // 4, np.float32)]
        total += audio.size + SAMPLE_RATE // 4
        index += 1
    return np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]


def make_clips(models_dir: Path, folder: Path) -> None:
    """Write the benchmark clips as .npy files (once, so Piper stays out of the ASR runs)."""
    speaker = Speaker(make_engine("piper", models_dir))
    for seconds in CLIP_SECONDS:
        np.save(folder / f"clip{seconds}.npy", speech_clip(speaker, seconds))


def load_clips(folder: Path) -> dict[int, np.ndarray]:
    return {seconds: np.load(folder / f"clip{seconds}.npy") for seconds in CLIP_SECONDS}


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_pair(
    backend: Backend, model_name: str, models_dir: Path, clip_dir: Path, repeats: int, threads: int
) -> dict:
    """One backend/model in this process: every clip and beam size. Returns a JSON dict."""
    audio = load_clips(clip_dir)
    before = peak_rss_mb()
    started = time.perf_counter()
    model = load_model(model_name, "cpu", backend, models_dir, threads=threads)
    load_seconds = time.perf_counter() - started
    rows = []
    for beam in BEAMS:
        options = DecodeOptions(language="en", beam_size=beam)
        transcribe_samples(model, audio[CLIP_SECONDS[0]], options)  # warm-up
        for seconds, clip in audio.items():
            times, text = [], ""
            for _ in range(repeats):
                began = time.perf_counter()
                text = transcribe_samples(model, clip, options).text
                times.append(time.perf_counter() - began)
            median = statistics.median(times)
            rows.append(
                {
                    "backend": backend,
                    "model": model_name,
                    "beam": beam,
                    "clip_seconds": seconds,
                    "seconds_median": round(median, 3),
                    "seconds_all": [round(t, 3) for t in times],
                    "rtf": round(median / seconds, 4),
                    "words": len(text.split()),
                }
            )
    return {
        "backend": backend,
        "model": model_name,
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_load_mb": round(before, 1),
        "runs": rows,
    }


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def voice_path(models_dir: Path, clip_dir: Path, repeats: int, threads: int) -> list[dict]:
    """Decode -> gate -> ASR -> TTS for a 5 s browser upload; p50/p95 per stage (ms)."""
    clip = load_clips(clip_dir)[5]
    command = ["ffmpeg", "-v", "error", "-f", "wav", "-i", "pipe:0", "-c:a", "libopus", "-f", "webm"]
    upload = subprocess.run([*command, "pipe:1"], input=wav_bytes(clip), capture_output=True).stdout
    engine = make_engine("piper", models_dir)
    Speaker(engine).synthesize("Warming up.")
    results = []
    for model_name in MODELS:
        model = load_model(model_name, "cpu", "faster", models_dir, threads=threads)
        options = DecodeOptions(language="en", beam_size=1)
        transcribe_samples(model, clip, options)  # warm-up
        stages: dict[str, list[float]] = {"decode": [], "gate": [], "asr": [], "tts": [], "total": []}
        for index in range(repeats):
            t0 = time.perf_counter()
            samples = decode_audio(upload, AudioLimits())
            t1 = time.perf_counter()
            speech_bounds(samples, SpeechGate())
            t2 = time.perf_counter()
            transcribe_samples(model, samples, options)  # gates again inside: counted in asr
            t3 = time.perf_counter()
            Speaker(engine).synthesize(f"{REPLY} ({index})")  # a fresh cache: a cold reply
            t4 = time.perf_counter()
            for stage, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                stages[stage].append(seconds * 1000)
        results.append(
            {
                "asr": f"faster/{model_name}/beam1",
                "stages_ms": {
                    stage: {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)}
                    for stage, v in stages.items()
                },
            }
        )
    return results


def write_markdown(report: dict, path: Path) -> None:
    runs = [run for pair in report["pairs"] for run in pair["runs"]]
    index = {(r["backend"], r["model"], r["beam"], r["clip_seconds"]): r for r in runs}
    lines = [
        "# Speech benchmark (CPU)",
        "",
        f"Machine: {report['machine']}; threads {report['threads']}; "
        f"load average at start {report['load_average']}; repeats {report['repeats']} (median).",
        "RTF = processing seconds / audio seconds (lower is better); speed-up = openai / faster.",
        "",
        "| model | beam | clip | openai RTF | faster RTF | speed-up |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for model in MODELS:
        for beam in BEAMS:
            for seconds in CLIP_SECONDS:
                slow = index[("openai", model, beam, seconds)]["rtf"]
                fast = index[("faster", model, beam, seconds)]["rtf"]
                lines.append(
                    f"| {model} | {beam} | {seconds} s | {slow:.3f} | {fast:.3f} | {slow / fast:.1f}x |"
                )
    lines += [
        "",
        "Peak resident memory of the process running each backend/model (all clips and beams).",
        "'Before load': that process with the clips in memory, before the backend is imported;",
        "the growth therefore includes importing PyTorch + openai-whisper or CTranslate2.",
        "",
        "| backend | model | load s | before load MB | peak MB | peak - before MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for pair in report["pairs"]:
        growth = pair["peak_rss_mb"] - pair["rss_before_load_mb"]
        lines.append(
            f"| {pair['backend']} | {pair['model']} | {pair['load_seconds']} | "
            f"{pair['rss_before_load_mb']:.0f} | {pair['peak_rss_mb']:.0f} | {growth:.0f} |"
        )
    lines += [
        "",
        "## Voice path, 5 s webm/opus upload (ms; chatbot and HTTP not included)",
        "",
        "| ASR | decode p50/p95 | gate p50/p95 | ASR p50/p95 | TTS p50/p95 | total p50/p95 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["voice_path"]:
        cells = [f"{s['p50']:.0f} / {s['p95']:.0f}" for s in row["stages_ms"].values()]
        lines.append(f"| {row['asr']} | " + " | ".join(cells) + " |")
    lines += ["", report["gpu_note"], ""]
    path.write_text("\n".join(lines))


GPU_NOTE = (
    "GPU: not measured. The lent GPU machine takes at most 64 MiB of files per call; the"
    " smallest model file (tiny.en, 75 MB) does not fit, and faster-whisper's CTranslate2"
    " wheel needs CUDA 12 cuBLAS, which that machine (CUDA 13) lacks."
)


def main(args: argparse.Namespace) -> None:
    if args.pair:
        name, model_name = args.pair.split("/")
        chosen: Backend = "openai" if name == "openai" else "faster"
        result = run_pair(chosen, model_name, args.models_dir, args.clips, args.repeats, args.threads)
        print(json.dumps(result))
        return
    load_average = os.getloadavg()
    clip_dir = Path(tempfile.mkdtemp(prefix="cradle-bench-"))
    make_clips(args.models_dir, clip_dir)
    pairs = []
    for backend in BACKENDS:
        for model_name in MODELS:
            print(f"bench {backend}/{model_name}", file=sys.stderr, flush=True)
            command = [sys.executable, "-m", "bench.speech", "--pair", f"{backend}/{model_name}"]
            command += ["--models-dir", str(args.models_dir), "--repeats", str(args.repeats)]
            command += ["--threads", str(args.threads), "--clips", str(clip_dir)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            pairs.append(json.loads(output.strip().splitlines()[-1]))
    print("bench voice path", file=sys.stderr, flush=True)
    paths = voice_path(args.models_dir, clip_dir, max(args.repeats * 3, 5), args.threads)
    shutil.rmtree(clip_dir)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "repeats": args.repeats,
        "load_average": [round(x, 2) for x in load_average],
        "pairs": pairs,
        "voice_path": paths,
        "gpu_note": GPU_NOTE,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speech.json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(report, RESULTS / "speech.md")
    print((RESULTS / "speech.md").read_text())


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pair", help=argparse.SUPPRESS)  # internal: one backend/model
    parser.add_argument("--clips", type=Path, help=argparse.SUPPRESS)  # internal: clip folder
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
