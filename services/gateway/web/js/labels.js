// Teach Cradle: confirm or correct the mood of recent pictures, by touch or keyboard.

import { api, showImageWhenSeen } from "./api.js";
import { MOODS, childPicker, clear, clock, el, toast } from "./ui.js";

const KEYS = Object.keys(MOODS);  // 1..4 on the keyboard
let grid;
let child = () => null;

function said(frame) {
  const p = frame.probabilities?.[frame.predicted];
  return `Cradle said ${MOODS[frame.predicted]?.word || frame.predicted}${p ? ` (${Math.round(p * 100)}% sure)` : ""}`;
}

async function label(frame, mood, item) {
  try {
    const saved = await api("/api/labels", {
      method: "POST", json: { frame_id: frame.frame_id, child: frame.child, label: mood },
    });
    frame.label = saved.label;
    frame.labelled_by = saved.by;
    const replacement = tile(frame);
    item.replaceWith(replacement);
    replacement.querySelector("article").focus();
    toast(mood === frame.predicted ? "Confirmed. Thank you." : `Corrected to ${MOODS[mood].word}. Cradle will learn from it.`);
  } catch (error) {
    toast(error.message);
  }
}

function tile(frame) {
  const img = el("img", { alt: "Loading the picture", width: 320, height: 240, loading: "lazy" });
  showImageWhenSeen(img, frame.frame_url, `${frame.child} at ${clock(frame.at)}`);
  const state = frame.label
    ? `Marked ${MOODS[frame.label]?.word || frame.label}${frame.labelled_by ? ` by ${frame.labelled_by}` : ""}`
    : said(frame);
  const item = el("li");
  const article = el("article", {
    class: `frame${frame.label ? " labelled" : ""}`, tabindex: "0", dataset: { id: frame.frame_id },
    "aria-label": `Picture at ${clock(frame.at)}. ${state}.`,
  }, img,
  el("p", {}, el("time", { datetime: frame.at }, clock(frame.at)), " · ", state),
  el("div", { class: "moods", role: "group", "aria-label": `The right mood at ${clock(frame.at)}` },
    KEYS.map((mood, index) => el("button", {
      type: "button", class: `mood mood-${mood}`, dataset: { mood },
      "aria-pressed": (frame.label || "") === mood ? "true" : "false",
      "aria-keyshortcuts": String(index + 1),
      onclick: () => label(frame, mood, item),
    }, mood === frame.predicted && !frame.label ? `✓ ${MOODS[mood].label}` : MOODS[mood].label))));
  article.addEventListener("keydown", (event) => {
    const number = Number(event.key);
    if (number >= 1 && number <= KEYS.length && event.target === article) {
      event.preventDefault();
      label(frame, KEYS[number - 1], item);
    }
  });
  item.append(article);
  return item;
}

function move(event) {
  const tiles = [...grid.querySelectorAll("article.frame")];
  const at = tiles.indexOf(document.activeElement);
  if (at < 0) return;
  const across = Math.max(1, Math.round(grid.clientWidth / tiles[0].getBoundingClientRect().width));
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: across, ArrowUp: -across }[event.key];
  if (!step) return;
  event.preventDefault();
  tiles[Math.min(Math.max(at + step, 0), tiles.length - 1)].focus();
}

export async function load() {
  const kid = child();
  if (!kid) return;
  try {
    const found = await api(`/api/labels/frames?${new URLSearchParams({ child: kid.id, hours: "24" })}`);
    clear(grid).append(...found.frames.map(tile));
    document.getElementById("labels-empty").hidden = found.frames.length > 0;
  } catch (error) {
    toast(error.message);
  }
}

export function init(session) {
  grid = document.getElementById("label-grid");
  child = childPicker(document.getElementById("label-child"), document.getElementById("label-pick"),
    session.children, load);
  grid.addEventListener("keydown", move);
}

export function show() {
  load();
}
