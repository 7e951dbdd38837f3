"""Voice through the whole stack while the demo camera runs: `POST /api/voice`, a 5 s
spoken question answered by the chatbot and spoken back, against faster-whisper itself.

    .venv/bin/python -m bench voice          (under flock /tmp/cradle-bench.lock)

`cradle up` starts every part as a family runs it (embedded Redis, the demo camera feeding
the vision worker, the training worker, the bus consumers, Rasa and its actions, the
gateway) on free ports and a scratch data folder. Once the first moods arrive, rounds
alternate: one question through the gateway (its stages as it reports them: upload, asr =
queue + decode + recognise, chatbot, tts), then the raw anchor, the same clip's bytes
through `WhisperModel.transcribe` in this process, with the worker's model folder,
compute type, beam, threads and prompt: once with the language given (one encoder pass,
the library at its best) and once told to detect it as the stack's setting asks. The
reply is usually cached after the first round, so a cold synthesis of the same reply is
measured too. Each part's share of the CPU over the rounds comes from /proc.

Other benchmarks reuse `measure_voice` (a running stack) and `RawWhisper` / `raw_asr`.
Results: bench/results/voice.json and .md.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np

from bench.common import percentile, write
from bench.speech import wav_bytes
from models.speech import AudioLimits, Speaker, decode_audio, make_engine
from models.speech.audio import SAMPLE_RATE
from models.speech.locate import resolve_model
from services.auth import Role, UserStore
from services.redis_runtime import connect, free_port
from services.settings import Settings, load_settings
from services.tasks import SPEAK, create_celery, wait_for_task
from workers.speech import prompt_for

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
ROUNDS = 20
WARM_ROUNDS = 3  # the first questions load models in the worker, Rasa and the actions
QUESTION = "How is Baby doing right now, and did she sleep well last night?"
CLIP_SECONDS = 5.0


def webm_question(folder: Path, text: str = QUESTION, seconds: float = CLIP_SECONDS) -> bytes:
    """`text` in the Piper voice, padded with silence to `seconds`, as a browser's webm/opus."""
    spoken = decode_audio(Speaker(make_engine("piper", MODELS)).synthesize(text), AudioLimits())
    clip = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    clip[: min(spoken.size, clip.size)] = spoken[: clip.size]
    (folder / "q.wav").write_bytes(wav_bytes(clip))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(folder / "q.wav"), "-c:a", "libopus",
                    "-b:a", "32k", str(folder / "q.webm")], check=True)
    return (folder / "q.webm").read_bytes()


def _figures(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


@dataclass
class RawWhisper:
    """The anchor: faster-whisper's own `transcribe` on the upload's bytes (its own decode),
    with the speech worker's model folder, compute type, beam, threads and prompt."""

    settings: Settings
    prompt: str | None = None
    model: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from faster_whisper import WhisperModel

        speech = self.settings.speech
        folder = resolve_model(self.settings.models_dir, speech.model, "faster")
        self.model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=speech.threads)

    def once(self, question: bytes, language: str | None) -> float:
        """Milliseconds to the words of `question`, the language given or (None) detected."""
        started = time.perf_counter()
        pieces, _info = self.model.transcribe(
            io.BytesIO(question), language=language, beam_size=self.settings.speech.beam_size, best_of=5,
            temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0], initial_prompt=self.prompt, vad_filter=False,
        )
        " ".join(piece.text for piece in pieces)  # the segments are decoded as they are read
        return (time.perf_counter() - started) * 1000


def raw_asr(settings: Settings, question: bytes, n: int, language: str | None = "en",
            prompt: str | None = None) -> dict[str, Any]:
    """The raw anchor alone: `n` calls after one warm-up, p50/p95 in ms."""
    raw = RawWhisper(settings, prompt)
    raw.once(question, language)
    return {"language": language, "n": n, "ms": _figures([raw.once(question, language) for _ in range(n)])}


def measure_voice(gateway_url: str, token: str, question: bytes, n: int = ROUNDS,
                  raw: RawWhisper | None = None, language: str = "en",
                  warm: int = WARM_ROUNDS, every_s: float = 0.0, detect: bool = True) -> dict[str, Any]:
    """`n` voice questions to a running stack (after `warm` unmeasured ones), one every
    `every_s` (0: back to back), each followed, when `raw` is given, by the anchor on the
    same bytes: with `language` given, then (unless `detect` is off) detected where the
    stack's settings detect it.
    Returns p50/p95 per stage (ms), the raw anchor's, and the ratio of the stack's
    recognition (gateway's asr stage) to the anchor's."""
    rounds: list[dict[str, float]] = []
    replies: set[str] = set()
    detect = detect and raw is not None and raw.settings.speech.language is None
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=gateway_url, headers=auth, timeout=120) as http:
        for index in range(warm + n):
            started = time.perf_counter()
            due = started + every_s
            answer = http.post("/api/voice", files={"audio": ("q.webm", question, "audio/webm")})
            answer.raise_for_status()
            figures = {**answer.json()["timings_ms"], "total": (time.perf_counter() - started) * 1000}
            if raw is not None:
                figures["raw"] = raw.once(question, language)
                if detect:
                    figures["raw_detect"] = raw.once(question, None)
            if index >= warm:
                rounds.append(figures)
                replies.add(answer.json()["reply_text"] or "")
            time.sleep(max(0.0, due - time.perf_counter()))
    stages = {stage: _figures([r[stage] for r in rounds if stage in r]) for stage in rounds[0]}
    result: dict[str, Any] = {"n": len(rounds), "stages_ms": stages, "replies": sorted(replies)}
    if raw is not None:
        result["asr_over_raw"] = round(stages["asr"]["p50"] / stages["raw"]["p50"], 3)
        if detect:
            result["asr_over_raw_detect"] = round(stages["asr"]["p50"] / stages["raw_detect"]["p50"], 3)
    return result


def cold_speech(settings: Settings, redis_url: str, reply: str, n: int) -> dict[str, float]:
    """The stack's speech worker saying `reply` afresh (a new ending each time): what the
    tts stage costs when the reply is not in the cache."""
    celery = create_celery(settings, redis_url, include=False)
    times = []
    try:
        for index in range(n):
            started = time.perf_counter()
            wait_for_task(celery, SPEAK, [f"{reply} ({index} {time.time_ns()})"], 60)
            times.append((time.perf_counter() - started) * 1000)
    finally:  # unsubscribed while Redis runs, or it retries against the stopped stack and hangs the exit
        celery.backend.result_consumer.stop()
        celery.close()
    return _figures(times)


# CPU share per part -------------------------------------------------------------------

def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Celery's pool children, Rasa's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def cpu_snapshot(parts: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part's process tree, less the trees of the other
    parts inside it (the benchmark's tree holds `cradle up`'s, which holds every part's)."""
    trees = {name: _tree(pid) for name, pid in parts.items()}
    owned = {}
    for name, tree in trees.items():
        nested = {p for other, pid in parts.items() if other != name and pid in tree for p in trees[other]}
        owned[name] = [pid for pid in tree if pid not in nested]
    return {name: _cpu_seconds(pids) for name, pids in owned.items()}


def cpu_shares(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Each part's CPU use between two snapshots, in cores (2.0 = both cores of this machine)."""
    return {name: round((after[name] - before.get(name, 0.0)) / seconds, 3) for name in after}


# The stack ---------------------------------------------------------------------------

@dataclass
class RunningStack:
    env: dict[str, str]
    data_dir: Path
    state: dict[str, Any]
    token: str

    @property
    def settings(self) -> Settings:
        return load_settings(data_dir=self.data_dir, redis={"url": self.state["redis_url"]})

    @property
    def parts(self) -> dict[str, int]:
        """Each part's pid, and `cradle up`'s own (its supervisor and an embedded Redis)."""
        return {**{name: part["pid"] for name, part in self.state["parts"].items()},
                "cradle up (supervisor, embedded Redis)": self.state["pid"]}


def cradle_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
    env.update(
        CRADLE_DATA_DIR=str(data_dir), CRADLE_MODELS__DIR=str(MODELS), CRADLE_ENVIRONMENT="test",
        CRADLE_GATEWAY__PORT=str(free_port()), CRADLE_GATEWAY__LOG_LEVEL="warning",
        CRADLE_RASA__URL=f"http://127.0.0.1:{free_port()}",
        CRADLE_RASA__ACTIONS_URL=f"http://127.0.0.1:{free_port()}/webhook",
        CRADLE_HTTPS__ENABLED="false", PYTHONPATH=str(ROOT),
    )
    return env


@contextlib.contextmanager
def cradle_up(folder: Path, timeout_s: float = 400) -> Iterator[RunningStack]:
    """`cradle up` (the demo camera on), running once moods flow; stopped by SIGINT after."""
    data_dir = folder / "data"
    env = cradle_env(data_dir)
    with (folder / "up.log").open("wb") as log:
        up = subprocess.Popen([sys.executable, "-m", "services.cli.main", "up"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        state = _wait_for_moods(data_dir, up, env, timeout_s)
        _user, token = UserStore(connect(state["redis_url"])).add("Bench", Role.parent)
        yield RunningStack(env, data_dir, state, token)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(90)
        except subprocess.TimeoutExpired:
            up.kill()


def _wait_for_moods(data_dir: Path, up: subprocess.Popen[bytes], env: dict[str, str],
                    timeout_s: float) -> dict[str, Any]:
    """The stack's state once `cradle status` says every part is up and moods flow."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if up.poll() is not None:
            raise RuntimeError(f"cradle up exited ({up.returncode}); see {data_dir.parent / 'up.log'}")
        status = subprocess.run([sys.executable, "-m", "services.cli.main", "status"], cwd=ROOT, env=env,
                                capture_output=True)
        if status.returncode == 0:
            state: dict[str, Any] = json.loads((data_dir / "run" / "stack.json").read_text())
            settings = load_settings(data_dir=data_dir, redis={"url": state["redis_url"]})
            if events_seen(settings, "mood.observed") > 0:
                return state
        time.sleep(2)
    raise RuntimeError(f"the stack was not up, moods flowing, within {timeout_s:.0f} s")


def events_seen(settings: Settings, kind: str) -> int:
    """Events of type `kind` on the bus so far (frame.captured: the camera; mood.observed: vision)."""
    assert settings.redis.url
    client = connect(settings.redis.url)
    try:
        entries = cast(list[tuple[str, dict[str, str]]], client.xrange(settings.bus.stream))
        return sum(1 for _id, event in entries if event.get("type") == kind)
    finally:
        client.close()


def run(folder: Path, rounds: int = ROUNDS) -> dict[str, Any]:
    question = webm_question(folder)
    with cradle_up(folder) as stack:
        settings, url = stack.settings, stack.state["redis_url"]
        with contextlib.closing(connect(url)) as client:
            raw = RawWhisper(settings, prompt_for(settings, client))
        raw.once(question, "en")
        parts = {**stack.parts, "bench": os.getpid()}
        before, started = cpu_snapshot(parts), time.time()
        counted = {kind: events_seen(settings, kind) for kind in ("frame.captured", "mood.observed")}
        voice = measure_voice(stack.state["gateway_url"], stack.token, question, rounds, raw)
        seconds = time.time() - started
        shares = cpu_shares(before, cpu_snapshot(parts), seconds)
        rates = {kind: round((events_seen(settings, kind) - n) / seconds, 2) for kind, n in counted.items()}
        cold = cold_speech(settings, url, voice["replies"][0], 8)
    return {
        "question": QUESTION, "clip_seconds": CLIP_SECONDS, "model": settings.speech.model,
        "beam": settings.speech.beam_size, "threads": settings.speech.threads,
        "language": settings.speech.language, **voice, "cold_tts_ms": cold,
        "seconds": round(seconds, 1), "events_per_s": rates, "cpu_cores": shares,
    }


def markdown(report: dict[str, Any]) -> str:
    stages = report["stages_ms"]
    order = ["total", "upload", "asr", "worker_decode", "worker_recognise", "chatbot", "tts", "raw",
             "raw_detect"]
    lines = [
        "# Voice through the whole stack, demo camera on",
        "",
        f"`cradle up` as a family runs it, the demo camera feeding the vision worker "
        f"({report['events_per_s']['frame.captured']} frames/s sent, "
        f"{report['events_per_s']['mood.observed']} moods/s back during the rounds). "
        f"A {report['clip_seconds']:.0f} s "
        f"webm/opus question (\"{report['question']}\", Piper) to `POST /api/voice`, answered by "
        f"Rasa and spoken back; speech model {report['model']} (faster-whisper int8, beam "
        f"{report['beam']}, threads {report['threads'] or 'library default'}, language "
        f"{report['language'] or 'detected'}). {report['n']} rounds after {WARM_ROUNDS} warm-up ones; "
        "p50 / p95 in ms. `total` is the client's (HTTP, upload, recognition, chatbot, spoken reply);",
        "`asr` is the gateway's wait for the transcript (queue, decode, recognise). `raw` is",
        "faster-whisper's own `transcribe` on the same bytes in the benchmark's process, with the",
        "worker's model, compute type, beam, threads and prompt, right after each question: `raw`",
        "with the language given, `raw_detect` told to detect it.",
        "",
        "| stage | p50 | p95 |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {s} | {stages[s]['p50']} | {stages[s]['p95']} |" for s in order if s in stages]
    lines += [
        "",
        f"Recognition in the stack over raw faster-whisper (p50): **{report['asr_over_raw']}x** the "
        "language given" + (f", {report['asr_over_raw_detect']}x detecting it"
                            if "asr_over_raw_detect" in report else "") + ".",
        f"The reply (\"{report['replies'][0]}\") was cached after the first round; spoken afresh "
        f"by the stack's worker it takes {report['cold_tts_ms']['p50']} / {report['cold_tts_ms']['p95']} ms.",
        "",
        "CPU used by each part during the rounds, in cores (2 = the whole machine; `bench` is",
        "the client and the raw anchor):",
        "",
        "| part | cores |",
        "| --- | --- |",
    ]
    busiest = sorted(report["cpu_cores"].items(), key=lambda item: -item[1])
    lines += [f"| {name} | {cores} |" for name, cores in busiest]
    lines += ["", "Goal (issue 18): p50 under 1500 ms and p95 under 2000 ms end to end; recognition",
              "within 1.1x the raw call.", "",
              "Reproduce: `flock /tmp/cradle-bench.lock .venv/bin/python -m bench voice`."]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cradle-bench-voice-") as scratch:
        report = run(Path(scratch))
    print(json.dumps(report, indent=2), flush=True)
    write("voice", report, markdown(report))


if __name__ == "__main__":
    main()
