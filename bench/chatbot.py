"""The chatbot: training time, reply latency through the gateway, NLU cross-validation.

- Training: `rasa train` of the whole project (NLU + dialogue) from scratch, timed.
- Latency: `POST /api/chat` over HTTP to a real uvicorn gateway, which asks a real Rasa
  server (REST channel, Redis tracker and lock stores), which asks the real action server
  when the answer needs one. Three questions: a greeting (a response from the domain, no
  custom action), "how is she" (reads the timeline) and a game request (MiniLM search).
- NLU: 5-fold cross-validation of the intent classifier; per-intent F1.

Results: bench/results/chatbot.json and .md (and chatbot_nlu.json, the full intent report).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS, start, summary_ms, wait_for_gateway, write
from services import rasa_project as project
from services.auth import Role, UserStore
from services.bus.events import MoodObserved, utcnow
from services.redis_runtime import EmbeddedRedis, connect, free_port
from services.settings import Settings, load_settings
from services.timeline.store import Timeline

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
REQUESTS = 40
PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")
QUESTIONS = {
    "greeting (no custom action)": "hello",
    "mood now (timeline action)": "how is she doing",
    "game request (games search action)": "a calm game for a one year old",
}


def timed_training(folder: Path) -> float:
    settings = load_settings(models={"dir": folder / "models"}, rasa={"venv": ROOT / ".venv-rasa"})
    started = time.perf_counter()
    project.train(settings, force=True, rasa_cache=folder / "rasa-cache")  # nothing reused
    return time.perf_counter() - started


def happy_baby(client: Any) -> None:
    timeline, now = Timeline(client), utcnow()
    for seconds in range(900, 0, -20):
        at = now - timedelta(seconds=seconds)
        timeline.add(MoodObserved(id=f"bench-mood-{seconds:05d}", occurred_at=at,
                                  child="Baby", camera="demo", frame_id=f"bench-frame-{seconds:05d}",
                                  mood="happy", probabilities={"happy": 0.9, "upset": 0.1},
                                  model_version="bench"))


@contextmanager
def chat_stack(folder: Path) -> Iterator[dict[str, Any]]:
    """The chatbot as `cradle up` runs it, over a private Redis holding a happy quarter
    hour of Baby: yields the gateway's URL, a parent's token, Rasa's URL and its start time."""
    with EmbeddedRedis(folder / "redis") as server:
        gateway_port, rasa_port, actions_port = free_port(), free_port(), free_port()
        settings: Settings = load_settings(
            redis={"url": server.url}, models={"dir": MODELS},
            rasa={"enabled": True, "url": f"http://127.0.0.1:{rasa_port}",
                  "actions_url": f"http://127.0.0.1:{actions_port}/webhook", "venv": ROOT / ".venv-rasa"},
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRADLE_")}
        env.update(
            CRADLE_REDIS__URL=server.url, CRADLE_DATA_DIR=str(folder / "data"),
            CRADLE_MODELS__DIR=str(MODELS),
            CRADLE_GATEWAY__PORT=str(gateway_port), CRADLE_GATEWAY__LOG_LEVEL="warning",
            CRADLE_RASA__ENABLED="true", CRADLE_RASA__URL=settings.rasa.url,
            CRADLE_RASA__ACTIONS_URL=settings.rasa.actions_url, PYTHONPATH=str(ROOT),
        )
        client = connect(server.url)
        _user, token = UserStore(client).add("Bench", Role.parent)
        happy_baby(client)
        model, _ = project.train(settings)
        rasa_env = project.quiet_env({**env, **project.rasa_env(settings, server.url)})
        processes = [
            start([sys.executable, "-m", "chatbot.actions", "--port", str(actions_port)], env,
                  folder / "actions.log"),
            start(project.server_argv(settings, model), rasa_env, folder / "rasa.log"),
            start([sys.executable, "-m", "services.gateway"], env, folder / "gateway.log"),
        ]
        try:
            started = time.perf_counter()
            actions_health = settings.rasa.actions_url.removesuffix("/webhook") + "/health"
            for url in (actions_health, settings.rasa.url + "/"):
                if not project.wait_for(url, 300):
                    raise RuntimeError(f"{url} did not answer; logs in {folder}")
            rasa_start_s = time.perf_counter() - started
            base = f"http://127.0.0.1:{gateway_port}"
            wait_for_gateway(base)
            yield {"gateway_url": base, "token": token, "rasa_url": settings.rasa.url,
                   "rasa_start_s": round(rasa_start_s, 1)}
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            client.close()


def measure_chat(gateway_url: str, token: str, questions: dict[str, str] | None = None,
                 requests: int = REQUESTS, warmups: int = 3, rasa_url: str | None = None) -> dict[str, Any]:
    """`POST /api/chat` latency per question against a running stack, as `token`'s user.
    The questions take turns (one conversation, so each is asked as far into it as the
    others); the greeting among them is the anchor, Rasa's own reply with no custom
    action, and with `rasa_url` Rasa's NLU alone (`/model/parse`) is timed in the same
    rounds. Returns per question its words, an example reply and the summary_ms figures."""
    questions = questions or QUESTIONS
    times: dict[str, list[float]] = {name: [] for name in questions}
    replies: dict[str, str] = {}
    parse: list[float] = []
    with httpx.Client(base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for index in range(warmups + requests):
            for name, text in questions.items():
                begun = time.perf_counter()
                answer = http.post("/api/chat", json={"text": text})
                answer.raise_for_status()
                if index >= warmups:
                    times[name].append(time.perf_counter() - begun)
                replies[name] = answer.json()["reply"]
            if rasa_url:
                begun = time.perf_counter()
                http.post(rasa_url.rstrip("/") + "/model/parse", json={"text": "hello"}).raise_for_status()
                if index >= warmups:
                    parse.append(time.perf_counter() - begun)
    results: dict[str, Any] = {
        "questions": {name: {"text": text, "example_reply": replies[name], **summary_ms(times[name])}
                      for name, text in questions.items()}}
    if rasa_url:
        results["rasa_parse"] = summary_ms(parse)
    return results


@contextmanager
def cpu_hog() -> Iterator[None]:
    """A busy loop at nice 10 on one of the two cores, as the camera's vision worker is."""
    hog = subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1)
        yield
    finally:
        hog.kill()
        hog.wait()


def latency(folder: Path) -> dict[str, Any]:
    """Chat latency on a quiet machine, then with one core busy, in one run of the stack."""
    with chat_stack(folder) as stack:
        results: dict[str, Any] = {"rasa_start_s": stack["rasa_start_s"]}
        for condition in ("quiet", "busy"):
            with cpu_hog() if condition == "busy" else nullcontext():
                measured = measure_chat(stack["gateway_url"], stack["token"], rasa_url=stack["rasa_url"])
            results[condition] = measured
            print(condition, json.dumps(measured), flush=True)
    return results


def cross_validation(folder: Path) -> dict[str, Any]:
    settings = load_settings(rasa={"venv": ROOT / ".venv-rasa"})
    started = time.perf_counter()
    report = project.cross_validate(settings, folder / "cv", folds=5)
    took = time.perf_counter() - started
    (RESULTS / "chatbot_nlu.json").write_text(json.dumps(report, indent=2) + "\n")
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and " avg" not in k}
    worst = sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])[:3]
    return {
        "folds": 5,
        "seconds": round(took, 1),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "worst_intents": {name: round(row["f1-score"], 3) for name, row in worst},
        "examples": sum(int(row["support"]) for row in intents.values()),
    }


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-only", action="store_true",
                        help="time the replies only; keep training and NLU figures from the last full run")
    return parser


def main(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cradle-bench-chatbot-") as scratch:
        folder = Path(scratch)
        if args.latency_only:
            previous = json.loads((RESULTS / "chatbot.json").read_text())
            training_s, nlu, full_run = previous["training_s"], previous["nlu"], previous["machine"]["when"]
        else:
            training_s, full_run = timed_training(folder), None
            print(f"training: {training_s:.1f} s", flush=True)
        served = latency(folder)
        if not args.latency_only:
            nlu = cross_validation(folder)
            print(nlu, flush=True)
    lines = [
        "# Chatbot",
        "",
        "Rasa 3.6.21 (its own Python 3.10), rasa-sdk 3.21 action server, real uvicorn gateway,",
        "private redis-server (tracker and lock stores in Redis), this 2-core machine, CPU only.",
        "",
        f"- Training the whole project from scratch (`rasa train`): **{training_s:.0f} s**.",
        f"- Start, from launching the action server and Rasa (games import, MiniLM, model load) until both "
        f"answer: {served['rasa_start_s']} s.",
        f"- NLU {nlu['folds']}-fold cross-validation over {nlu['examples']} examples "
        f"({nlu['seconds']:.0f} s): weighted intent F1 **{nlu['weighted_f1']}**, macro "
        f"{nlu['macro_f1']}; lowest: "
        + ", ".join(f"{k} {v}" for k, v in nlu["worst_intents"].items()) + ".",
    ]
    if full_run:
        lines.append(f"- (Training and NLU figures from the full run of {full_run}; this run timed replies.)")
    lines += [
        "",
        f"`POST /api/chat`, text in, text out, one conversation, the questions taking turns, {REQUESTS} "
        "rounds after 3 warm-ups (ms). Quiet: nothing else running; busy: a busy loop at nice 10 "
        "holds one of the two cores, as the camera's vision worker does. The greeting is Rasa's own "
        "reply (no custom action), `/model/parse` Rasa's NLU alone:",
        "",
        "| question | quiet p50 | p95 | p99 | busy p50 | p95 | p99 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    quiet, busy = served["quiet"], served["busy"]
    rows = [(f"{name}: \"{row['text']}\"", row, busy["questions"][name])
            for name, row in quiet["questions"].items()]
    rows.append(("Rasa NLU alone: `/model/parse` \"hello\"", quiet["rasa_parse"], busy["rasa_parse"]))
    for label, calm, loaded in rows:
        figures = " | ".join(f"{row[k]:.0f}" for row in (calm, loaded) for k in (*PERCENTILES,))
        lines.append(f"| {label} | {figures} |")
    lines += ["", "Example replies:", ""]
    lines += [f"- \"{row['text']}\" → \"{row['example_reply']}\"" for row in quiet["questions"].values()]
    lines += ["", "Reproduce: `.venv/bin/python -m bench chatbot` (`--latency-only` skips training and "
              "cross-validation); against a running stack, `bench.chatbot.measure_chat`."]
    write("chatbot", {"training_s": round(training_s, 1), **served, "nlu": nlu}, "\n".join(lines))


if __name__ == "__main__":
    main(get_args_parser().parse_args())
