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

import json
import os
import sys
import tempfile
import time
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


def latency(folder: Path) -> dict[str, Any]:
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
            results: dict[str, Any] = {"rasa_start_s": round(rasa_start_s, 1), "questions": {}}
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=auth, timeout=60) as http:
                for name, text in QUESTIONS.items():
                    times, reply = [], ""
                    for index in range(REQUESTS + 3):  # three warm-ups
                        begun = time.perf_counter()
                        answer = http.post("/api/chat", json={"text": text})
                        answer.raise_for_status()
                        if index >= 3:
                            times.append(time.perf_counter() - begun)
                        reply = answer.json()["reply"]
                    results["questions"][name] = {"text": text, "example_reply": reply, **summary_ms(times)}
                    print(name, results["questions"][name], flush=True)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            client.close()
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


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cradle-bench-chatbot-") as scratch:
        folder = Path(scratch)
        training_s = timed_training(folder)
        print(f"training: {training_s:.1f} s", flush=True)
        served = latency(folder)
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
        "",
        f"`POST /api/chat`, text in, text out, {REQUESTS} requests each after 3 warm-ups (ms):",
        "",
        "| question | p50 | p95 | p99 |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in served["questions"].items():
        figures = f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f}"
        lines.append(f"| {name}: \"{row['text']}\" | {figures} |")
    lines += ["", "Example replies:", ""]
    lines += [f"- \"{row['text']}\" → \"{row['example_reply']}\"" for row in served["questions"].values()]
    lines += ["", "Reproduce: `.venv/bin/python -m bench chatbot`."]
    write("chatbot", {"training_s": round(training_s, 1), **served, "nlu": nlu}, "\n".join(lines))


if __name__ == "__main__":
    main()
