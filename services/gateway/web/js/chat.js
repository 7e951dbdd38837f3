// Chat: typed questions, push-to-talk, suggestion chips; replies spoken when they come by voice.

import { api, blobUrl } from "./api.js";
import { el, pronoun, toast } from "./ui.js";
import { Recorder } from "./voice.js";

let log;
let busy = false;

function add(who, text, extra = {}) {
  const item = el("li", { class: `bubble ${who}` },
    el("span", { class: "visually-hidden" }, who === "me" ? "You: " : "Cradle: "),
    extra.spoken ? el("span", { class: "icon", "aria-hidden": "true" }, "🎙️ ") : null,
    text);
  log.append(item);
  item.scrollIntoView({ block: "end", behavior: "smooth" });
  return item;
}

function thinking() {
  return add("cradle thinking", "…");
}

/** Sends a question; false when one is still on its way (the words are then kept). */
function ask(text) {
  text = text.trim();
  if (!text || busy) return false;
  busy = true;
  send(text);
  return true;
}

async function send(text) {
  add("me", text);
  const pending = thinking();
  try {
    const answer = await api("/api/chat", { method: "POST", json: { text } });
    pending.remove();
    add("cradle", answer.reply || "…");
  } catch (error) {
    pending.remove();
    add("cradle error", error.message);
  } finally {
    busy = false;
  }
}

async function sendRecording(blob) {
  const status = document.getElementById("talk-status");
  status.textContent = "Listening to what you said…";
  const pending = thinking();
  const form = new FormData();
  const type = (blob.type || "audio/webm").split(";")[0];
  form.append("audio", blob, `question.${type.split("/")[1] || "webm"}`);
  try {
    const answer = await api("/api/voice", { method: "POST", form });
    pending.remove();
    add("me", answer.transcript || "(I heard nothing)", { spoken: true });
    if (answer.reply_text) add("cradle", answer.reply_text);
    status.textContent = "";
    if (answer.reply_audio_url) await play(answer.reply_audio_url);
  } catch (error) {
    pending.remove();
    add("cradle error", error.message);
    status.textContent = "";
  }
}

async function play(path) {
  try {
    const url = await blobUrl(path);
    const audio = new Audio(url);
    audio.addEventListener("ended", () => URL.revokeObjectURL(url));
    await audio.play();
  } catch {
    // Autoplay refused or the file is gone: the words are on screen already.
  }
}

export function speakFile(path) {
  return play(path);
}

function chips(child) {
  const she = pronoun(child);
  const is = she === "they" ? "are" : "is";
  const sleep = she === "they" ? "did they" : `did ${she}`;
  const box = document.getElementById("chips");
  box.replaceChildren(...[
    `How ${is} ${she}?`, `How ${sleep} sleep?`, "A calm game", "Any alerts?", "What happened today?",
  ].map((text) => el("button", { type: "button", class: "chip", onclick: () => ask(text) }, text)));
}

function pushToTalk() {
  const button = document.getElementById("talk");
  const label = button.querySelector(".talk-label");
  const status = document.getElementById("talk-status");
  const recorder = new Recorder();
  let pressedAt = 0;

  const start = async () => {
    if (recorder.recording) return;
    try {
      await recorder.start();
    } catch (error) {
      status.textContent = error.message;
      toast(error.message);
      return;
    }
    button.setAttribute("aria-pressed", "true");
    label.textContent = "Listening… release to send";
    status.textContent = "Recording";
  };
  const stop = async () => {
    if (!recorder.recording) return;
    button.setAttribute("aria-pressed", "false");
    label.textContent = "Hold to talk";
    const blob = await recorder.stop();
    if (!blob || blob.size < 1000) {
      status.textContent = "That was too short: hold the button while you speak.";
      return;
    }
    await sendRecording(blob);
  };

  // Hold to talk with a finger or mouse; a short press starts and the next press sends
  // (keyboards, one-handed use).
  let wasRecording = false;
  button.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    pressedAt = performance.now();
    wasRecording = recorder.recording;
    button.setPointerCapture(event.pointerId);
    if (!wasRecording) start();
  });
  button.addEventListener("pointerup", () => {
    if (wasRecording || performance.now() - pressedAt > 400) stop();
  });
  button.addEventListener("click", (event) => {
    if (event.detail !== 0) return;  // pointer clicks are handled above
    recorder.recording ? stop() : start();
  });
  button.addEventListener("contextmenu", (event) => event.preventDefault());
}

export function init(session) {
  log = document.getElementById("chat-log");
  chips(session.children[0]);
  document.getElementById("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    if (ask(input.value)) input.value = "";
  });
  pushToTalk();
  if (!log.children.length) {
    add("cradle", `Hello ${session.name}. Ask me how the day went, about alerts, or for a game.`);
  }
}

export { ask, sendRecording };
