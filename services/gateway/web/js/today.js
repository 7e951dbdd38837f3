// Today: the latest picture and mood, the day's moods, sleep, feeds and what happened.

import { api, showImage } from "./api.js";
import { dayStrip, moodChart } from "./chart.js";
import { MOODS, childPicker, ago, clear, clock, duration, el } from "./ui.js";

let child = () => null;
let refreshTimer;

function range() {
  const until = new Date();
  return { since: new Date(until.getTime() - 24 * 3600_000), until };
}

function query(kid, since, until, extra = {}) {
  return new URLSearchParams({ child: kid.id, since: since.toISOString(), until: until.toISOString(), ...extra });
}

async function latest(kid, type, since, until) {
  const found = await api(`/api/timeline?${query(kid, since, until, { type, limit: 1 })}`);
  return found.events[found.events.length - 1] || null;
}

function moodSummary(buckets, name) {
  const totals = {};
  for (const b of buckets) for (const [m, n] of Object.entries(b.counts)) totals[m] = (totals[m] || 0) + n;
  const all = Object.values(totals).reduce((a, b) => a + b, 0);
  if (!all) return `No moods seen for ${name} in the last 24 hours.`;
  const parts = Object.entries(totals).sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${MOODS[m]?.word || m} ${Math.round((100 * n) / all)}%`);
  return `${name}'s moods over the last 24 hours: ${parts.join(", ")}.`;
}

// Said when the camera's recent frames are unlike anything the models were taught.
export const NEW_VIEW = "I can't tell yet: the camera's view is new to me. Teach me what it shows on the Teach screen.";

function moodWords(kid, now, mood) {
  const name = kid.name || kid.id;
  if (now.view_new) return NEW_VIEW;
  if (now.mood) return `${name} is ${MOODS[now.mood.mood]?.word || now.mood.mood} · since ${clock(now.mood.since)}`;
  if (mood && mood.familiar !== false) return `${name} looked ${MOODS[mood.mood]?.word || mood.mood} · ${ago(mood.occurred_at)}`;
  return mood ? NEW_VIEW : `No picture of ${name} in the last 24 hours.`;
}

async function snapshot(kid, since, until) {
  const [frame, mood, now] = await Promise.all([
    latest(kid, "frame.captured", since, until), latest(kid, "mood.observed", since, until),
    api(`/api/timeline/now?${new URLSearchParams({ child: kid.id })}`),
  ]);
  const img = document.getElementById("snapshot");
  const caption = document.getElementById("mood-now");
  if (frame) {
    const hint = new URLSearchParams({ child: kid.id, at: frame.occurred_at });
    await showImage(img, `/api/frames/${frame.frame_id}?${hint}`,
      `${kid.name || kid.id} at ${clock(frame.occurred_at)}`);
  }
  caption.textContent = moodWords(kid, now, mood);
  caption.classList.toggle("view-new", now.view_new);
}

async function charts(kid, since, until) {
  const q = query(kid, since, until);
  const [mood, sleep, feeds, happened] = await Promise.all(
    ["mood", "sleep", "feeds", "what_happened"].map((view) => api(`/api/timeline/${view}?${q}`)));
  const name = kid.name || kid.id;
  clear(document.getElementById("mood-chart")).append(moodChart(mood.items, since, until, moodSummary(mood.items, name)));
  const slept = sleep.items.reduce((total, s) => total + s.duration_s, 0);
  const sleepWords = sleep.items.length
    ? `${sleep.items.length} sleep${sleep.items.length > 1 ? "s" : ""}, ${duration(slept)} in all`
    : "No sleep seen";
  const feedWords = feeds.items.length
    ? `${feeds.items.length} feed${feeds.items.length > 1 ? "s" : ""}, the last at ${clock(feeds.items[feeds.items.length - 1].start)}`
    : "No feeds seen";
  clear(document.getElementById("sleep-chart")).append(
    dayStrip(sleep.items, feeds.items, since, until, `${sleepWords}. ${feedWords}.`));
  document.getElementById("sleep-summary").textContent = `😴 ${sleepWords}.`;
  document.getElementById("feed-summary").textContent = `🍼 ${feedWords}.`;
  const moments = happened.items.slice(-12).reverse();
  clear(document.getElementById("happened")).append(...(moments.length
    ? moments.map((m) => el("li", {}, el("time", { datetime: m.at }, clock(m.at)), " ", m.text))
    : [el("li", { class: "empty" }, "Nothing noted yet.")]));
}

export async function load() {
  const kid = child();
  if (!kid) return;
  const { since, until } = range();
  try {
    await Promise.all([snapshot(kid, since, until), charts(kid, since, until)]);
  } catch (error) {
    document.getElementById("mood-now").textContent = error.message;
  }
}

export function init(session) {
  child = childPicker(document.getElementById("child-select"), document.getElementById("child-pick"),
    session.children, load);
  legend();
}

function legend() {
  clear(document.getElementById("mood-legend")).append(...Object.entries(MOODS).map(([key, m]) =>
    el("li", {}, el("span", { class: `swatch mood-${key}`, "aria-hidden": "true" }), m.label)));
}

export function show() {
  load();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { if (!document.hidden) load(); }, 60_000);
}

export function hide() {
  clearInterval(refreshTimer);
}
