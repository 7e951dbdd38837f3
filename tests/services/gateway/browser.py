"""What the browser tests of the web app share (test_web_app over http, test_https over
Caddy): a real gateway on a free port, a real speech worker, Debian's headless Chromium
with a fake microphone playing a spoken question, push-to-talk, and a push message fed to
the service worker through Chromium's DevTools protocol."""

from __future__ import annotations

import gc
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Browser, Page, Playwright, Response, ViewportSize, expect

from services.gateway.app import create_app
from services.redis_runtime import free_port
from services.settings import Settings
from tests.chatbot.stack import MODELS, Chatbot, spoken
from tests.conftest import ROOT, child_env, wait_for, worker_argv

CHROMIUM = Path("/usr/bin/chromium")
QUESTION = "Tell me a calm game for a one year old."
CHILD = "Baby"  # the default family's child, as the chatbot's settings name her
PHONE: ViewportSize = {"width": 390, "height": 844}

# Every sound the page plays, with its length once the browser has decoded it.
PLAYED = """
window.__played = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  const entry = { src: this.src, duration: null };
  window.__played.push(entry);
  this.addEventListener("playing", () => { entry.duration = this.duration; }, { once: true });
  return play.call(this);
};
"""


# What the microphone gives the page, heard beside its recorder: `spoke` once sound came,
# `quiet_s` the seconds of silence since, counted in samples (audio time, not a clock).
HEARD = """() => {
  const getUserMedia = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (constraints) {
    const stream = await getUserMedia.call(this, constraints);
    const heard = window.__heard = { spoke: false, quiet_s: 0 };
    const context = new AudioContext();
    const tap = context.createScriptProcessor(2048, 1, 1);
    tap.onaudioprocess = (event) => {
      const samples = event.inputBuffer.getChannelData(0);
      if (samples.some((sample) => Math.abs(sample) > 0.01)) {
        heard.spoke = true;
        heard.quiet_s = 0;
      } else if (heard.spoke) {
        heard.quiet_s += samples.length / context.sampleRate;
      }
    };
    context.createMediaStreamSource(stream).connect(tap);
    tap.connect(context.destination);
    return stream;
  };
}"""


def speech_worker(chatbot: Chatbot, logs: Path) -> subprocess.Popen[bytes]:
    """A real Celery speech worker: Whisper tiny.en and the Piper voice."""
    env = child_env(chatbot.settings.redis.url or "", chatbot.settings.data_dir,
                    CRADLE_MODELS__DIR=str(MODELS), CRADLE_SPEECH__MODEL="tiny.en",
                    CRADLE_SPEECH__THREADS="2")
    return subprocess.Popen(
        worker_argv("speech", "web-speech"), cwd=ROOT, env=env,
        stdout=(logs / "speech.log").open("ab"), stderr=subprocess.STDOUT,
    )


def whisper_present() -> bool:
    return (MODELS / "whisper" / "tiny.en-ct2" / "model.bin").is_file()


@contextmanager
def running_gateway(settings: Settings, port: int | None = None) -> Iterator[int]:
    """The gateway app under uvicorn on 127.0.0.1 (a free port unless given); yields the port."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, what="the gateway")
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        gc.collect()  # the gateway's task results unsubscribe from Redis when collected: now, while it runs


def spoken_question(folder: Path) -> Path:
    """QUESTION as the Piper voice says it: what the fake microphone plays."""
    path = folder / "question.wav"
    path.write_bytes(spoken(QUESTION))
    return path


def launch(playwright: Playwright, wav: Path, *args: str, env: dict[str, str] | None = None) -> Browser:
    """Headless Chromium whose microphone plays `wav` once, granted without asking."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), env=env, args=[
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop", "--autoplay-policy=no-user-gesture-required",
        *args,
    ])


def ask_by_voice(page: Page) -> Response:
    """Push-to-talk: a short press starts recording the fake microphone's question, the next
    sends it once the microphone has spoken it and gone quiet. Returns the answer that
    carried the spoken reply, once the words are shown."""
    page.evaluate(HEARD)
    page.get_by_role("button", name="Hold to talk").click()  # a short press starts recording
    talk = page.locator("#talk")
    expect(talk).to_have_attribute("aria-pressed", "true")  # the fake microphone speaks the question
    wait_for(lambda: page.evaluate("window.__heard && window.__heard.spoke && window.__heard.quiet_s >= 1"),
             60, what="the microphone to speak the whole question (a second of silence after it)")
    with page.expect_response(lambda r: "/api/voice/replies/" in r.url, timeout=90_000) as spoken:
        talk.click()  # the next press sends
        expect(page.locator(".bubble.me").last).to_contain_text("game", timeout=90_000)
    return spoken.value


def push_and_read_notifications(page: Page, origin: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Feeds `message` to the page's service worker as the browser's push service would
    (no push service is reachable from here), and returns the notifications it shows."""
    page.context.grant_permissions(["notifications"])
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    devtools = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    devtools.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    devtools.send("ServiceWorker.enable")
    for _ in range(100):  # DevTools events arrive while Playwright is called, not while we sleep
        if any(not r["isDeleted"] for r in registrations):
            break
        page.wait_for_timeout(100)
    registration = next(r for r in registrations if not r["isDeleted"])
    devtools.send("ServiceWorker.deliverPushMessage", {
        "origin": origin, "registrationId": registration["registrationId"], "data": json.dumps(message),
    })
    shown: list[dict[str, Any]] = wait_for(lambda: page.evaluate(
        "() => navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url,"
        " sticky: n.requireInteraction})))"), 15, what="the notification")
    return shown
