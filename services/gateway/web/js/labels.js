// Teach Cradle: say what recent pictures show (the mood, scene tags), by touch or keyboard,
// see what Cradle has learnt and what it still needs, and train now.

import { api, showImage, showImageWhenSeen } from "./api.js";
import { MOODS, childPicker, clear, clock, el, toast } from "./ui.js";

const KEYS = Object.keys(MOODS);  // 1..4 on the keyboard
let grid;
let child = () => null;
let tags = [];  // [{name, label}] from /api/teach
let pollTimer;

function said(frame) {
  if (!frame.familiar) return "New view: Cradle did not guess";
  const p = frame.probabilities?.[frame.predicted];
  return `Cradle said ${MOODS[frame.predicted]?.word || frame.predicted}${p ? ` (${Math.round(p * 100)}% sure)` : ""}`;
}

function stateWords(frame) {
  if (!frame.mood && !frame.tags.length) return said(frame);
  const parts = [];
  if (frame.mood) parts.push(MOODS[frame.mood]?.word || frame.mood);
  for (const t of frame.tags) parts.push(tags.find((x) => x.name === t)?.label.toLowerCase() || t);
  return `Marked ${parts.join(", ")}${frame.labelled_by ? ` by ${frame.labelled_by}` : ""}`;
}

async function save(frame, change, item) {
  try {
    const saved = await api("/api/labels", { method: "POST", json: { frame_id: frame.frame_id, child: frame.child, ...change } });
    frame.mood = saved?.mood ?? null;
    frame.tags = saved?.tags ?? [];
    frame.labelled_by = saved?.by ?? null;
    const replacement = tile(frame);
    item.replaceWith(replacement);
    replacement.querySelector("article").focus();
    if ("mood" in change) {
      toast(change.mood === frame.predicted && frame.familiar ? "Confirmed. Thank you."
        : `Marked ${MOODS[change.mood].word}. Cradle will learn from it.`);
    }
    status();
  } catch (error) {
    toast(error.message);
  }
}

async function unlabel(frame, item) {
  try {
    await api(`/api/labels/${encodeURIComponent(frame.frame_id)}`, { method: "DELETE" });
    Object.assign(frame, { mood: null, tags: [], labelled_by: null });
    const replacement = tile(frame);
    item.replaceWith(replacement);
    replacement.querySelector("article").focus();
    toast("Label removed.");
    status();
  } catch (error) {
    toast(error.message);
  }
}

function tile(frame) {
  const img = el("img", { alt: "Loading the picture", width: 320, height: 240, loading: "lazy" });
  showImageWhenSeen(img, frame.frame_url, `${frame.child} at ${clock(frame.at)}`);
  const state = stateWords(frame);
  const labelled = Boolean(frame.mood || frame.tags.length);
  const item = el("li");
  const article = el("article", {
    class: `frame${labelled ? " labelled" : ""}`, tabindex: "0", dataset: { id: frame.frame_id },
    "aria-label": `Picture at ${clock(frame.at)}. ${state}.`,
  }, img,
  el("p", {}, el("time", { datetime: frame.at }, clock(frame.at)), " · ", state),
  el("div", { class: "moods", role: "group", "aria-label": `The right mood at ${clock(frame.at)}` },
    KEYS.map((mood, index) => el("button", {
      type: "button", class: `mood mood-${mood}`, dataset: { mood },
      "aria-pressed": (frame.mood || "") === mood ? "true" : "false",
      "aria-keyshortcuts": String(index + 1),
      onclick: () => save(frame, { mood }, item),
    }, mood === frame.predicted && frame.familiar && !frame.mood ? `✓ ${MOODS[mood].label}` : MOODS[mood].label))),
  el("div", { class: "tags", role: "group", "aria-label": `What the picture at ${clock(frame.at)} shows` },
    tags.map((tag) => {
      const on = frame.tags.includes(tag.name);
      return el("button", {
        type: "button", class: "tag", dataset: { tag: tag.name }, "aria-pressed": on ? "true" : "false",
        onclick: () => save(frame, { tags: on ? frame.tags.filter((t) => t !== tag.name) : [...frame.tags, tag.name] }, item),
      }, tag.label);
    })),
  labelled ? el("button", { type: "button", class: "unlabel", onclick: () => unlabel(frame, item) }, "Remove label") : "");
  article.addEventListener("keydown", (event) => {
    const number = Number(event.key);
    if (number >= 1 && number <= KEYS.length && event.target === article) {
      event.preventDefault();
      save(frame, { mood: KEYS[number - 1] }, item);
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

function percent(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
}

function scoreWords(family, scores) {
  if (!scores) return "not scored";
  if (family === "mood") return `moods right ${percent(scores.accuracy)}`;
  return `hazards found ${percent(scores.hazard_recall)}, real ${percent(scores.hazard_precision)}`;
}

function lastRun(run) {
  if (!run) return el("p", {}, "No training run yet.");
  if (run.error) return el("p", {}, `The last run failed: ${run.error}`);
  const rows = Object.entries(run.models || {}).map(([family, m]) => {
    const name = family === "mood" ? "Moods" : "Scenes";
    const verdict = m.promoted ? "now in use" : m.trained ? "not used" : "not trained";
    const cells = [el("th", { scope: "row" }, name), el("td", {}, verdict), el("td", {}, m.why || "")];
    cells.push(el("td", {}, m.trained ? `${scoreWords(family, m.scores)} (was ${scoreWords(family, m.serving_scores)})` : ""));
    return el("tr", {}, ...cells);
  });
  const table = el("table", { class: "runs" }, el("caption", {}, `Last run, ${clock(run.finished_at)}`),
    el("thead", {}, el("tr", {}, ...["Model", "Result", "Why", "On your kept-aside pictures"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows));
  const out = [table];
  const mood = run.models?.mood;
  if (mood?.version) {
    const img = el("img", { class: "confusion", width: 400, height: 400, alt: "Loading the confusion matrix" });
    showImage(img, `/api/teach/pictures/mood/${mood.version}/mood-confusion.png`,
      "Confusion matrix of the last mood model on your kept-aside pictures: rows what it was, columns what Cradle said");
    out.push(el("figure", {}, img, el("figcaption", {}, "What Cradle said (columns) for what it was (rows)")));
  }
  return el("div", {}, ...out);
}

async function status() {
  const box = document.getElementById("teach-status");
  let found;
  try {
    found = await api("/api/teach");
  } catch (error) {
    box.textContent = error.message;
    return;
  }
  tags = found.tags;
  const counts = found.counts;
  const moodLine = found.moods.map((m) => `${MOODS[m]?.label || m} ${counts.train.moods[m] + counts.held_out.moods[m]}`).join(" · ");
  const tagLine = tags.map((t) => `${t.label} ${(counts.train.tags[t.name] || 0) + (counts.held_out.tags[t.name] || 0)}`).join(" · ");
  const needs = [...new Set([...found.needs.mood, ...found.needs.caption])];
  const serving = Object.entries(found.serving).map(([family, s]) =>
    `${family === "mood" ? "Moods" : "Scenes"}: ${s.demo ? "the demo model (knows only cartoons)" : `your model, ${scoreWords(family, s.scores)}`}`);
  const button = el("button", { type: "button", id: "train-now", class: "primary", disabled: found.running,
    onclick: train }, found.running ? "Training…" : "Train now");
  clear(box).append(
    el("h2", {}, "What Cradle has learnt"),
    el("p", {}, `${counts.frames} pictures labelled over ${counts.days} day${counts.days === 1 ? "" : "s"}`
      + ` (${counts.held_out.frames} kept aside to test on).`),
    el("p", {}, `Moods: ${moodLine}`), el("p", {}, `Scenes: ${tagLine}`),
    el("ul", { class: "serving" }, ...serving.map((s) => el("li", {}, s))),
    needs.length ? el("div", { class: "needs" }, el("p", {}, "Before the next training Cradle needs:"),
      el("ul", {}, ...needs.map((n) => el("li", {}, n)))) : el("p", {}, "Enough labels to train."),
    found.running ? el("p", { role: "status" }, `Training: ${found.progress.step || "starting"}`) : "",
    button, lastRun(found.last_run));
  clearTimeout(pollTimer);
  if (found.running) pollTimer = setTimeout(status, 3000);
}

async function train() {
  try {
    await api("/api/teach/train", { method: "POST" });
    toast("Training started. It runs in the background; this page shows when it is done.");
  } catch (error) {
    toast(error.message);
  }
  status();
}

export async function load() {
  const kid = child();
  if (!kid) return;
  try {
    await status();
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

export function hide() {
  clearTimeout(pollTimer);
}
