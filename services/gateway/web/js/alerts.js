// Alerts: the list, kept live over Server-Sent Events, one tap to acknowledge.

import { api, showImageWhenSeen, stream } from "./api.js";
import { ago, clear, clock, el, toast } from "./ui.js";

const OPEN = new Set(["raised", "delivered", "escalated"]);
const alerts = new Map();  // id -> the alert as the list shows it
let list;
let lastEventId = null;
let controller = null;
let retryMs = 1000;

function frameUrl(alert) {
  if (alert.frame_url) return alert.frame_url;
  if (!alert.frame_id) return null;
  const hint = new URLSearchParams({ child: alert.child, at: alert.raised_at });
  return `/api/frames/${alert.frame_id}?${hint}`;
}

/** An alert from the API (AlertRecord) or from the feed (a notification payload). */
function normalise(raw) {
  return {
    id: raw.id || raw.alert_id,
    child: raw.child,
    kind: raw.kind,
    severity: raw.severity || "warning",
    state: raw.state || "raised",
    reason: raw.reason || raw.body || "",
    title: raw.title || `${raw.child} ${String(raw.kind || "alert").replaceAll("_", " ")}`,
    raised_at: raw.raised_at,
    frame_url: frameUrl(raw),
    acknowledged_by: raw.acknowledged_by || null,
  };
}

function setConnection(state, words) {
  const box = document.getElementById("connection");
  box.dataset.state = state;
  box.textContent = words;
}

function badge() {
  const open = [...alerts.values()].filter((a) => OPEN.has(a.state)).length;
  const node = document.getElementById("alert-badge");
  node.hidden = open === 0;
  node.textContent = open;
  node.setAttribute("aria-label", `${open} open`);
}

function card(alert) {
  const done = !OPEN.has(alert.state);
  const img = el("img", { alt: "Loading the snapshot", width: 320, height: 240, loading: "lazy" });
  if (alert.frame_url) showImageWhenSeen(img, alert.frame_url, `Snapshot when ${alert.title}`);
  const state = done
    ? (alert.state === "acknowledged"
      ? `Acknowledged${alert.acknowledged_by ? ` by ${alert.acknowledged_by}` : ""}`
      : alert.state === "muted" ? "Muted" : "Held back (quiet hours)")
    : alert.state === "escalated" ? "Not yet acknowledged: asked again" : "Needs someone";
  return el("li", { class: `card alert ${alert.severity}${done ? " done" : ""}`, dataset: { id: alert.id } },
    alert.frame_url ? img : null,
    el("div", { class: "alert-body" },
      el("h2", {}, el("span", { class: `severity ${alert.severity}` }, alert.severity), " ",
        alert.title.replace(/^URGENT: /, "")),
      el("p", {}, alert.reason),
      el("p", { class: "meta" },
        el("time", { datetime: alert.raised_at }, `${clock(alert.raised_at)} · ${ago(alert.raised_at)}`),
        " · ", el("span", { class: "state" }, state)),
      done ? null : el("button", {
        type: "button", class: "primary ack", onclick: (event) => acknowledge(alert.id, event.currentTarget),
        "aria-label": `Acknowledge: ${alert.title}`,
      }, "I'm on it")));
}

function render() {
  const sorted = [...alerts.values()].sort((a, b) => (b.raised_at || "").localeCompare(a.raised_at || ""));
  clear(list).append(...sorted.map(card));
  document.getElementById("alerts-empty").hidden = sorted.length > 0;
  badge();
}

function upsert(raw) {
  const next = normalise(raw);
  if (!next.id) return;
  const before = alerts.get(next.id);
  alerts.set(next.id, before ? { ...before, ...Object.fromEntries(
    Object.entries(next).filter(([, v]) => v !== null && v !== undefined && v !== "")) } : next);
  render();
}

async function acknowledge(id, button) {
  button.disabled = true;
  button.textContent = "Acknowledging…";
  try {
    const answer = await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: "POST" });
    upsert(answer.alert);
    toast(answer.acknowledged_now ? "Acknowledged: everyone knows you're on it." : "Someone already has it.");
  } catch (error) {
    button.disabled = false;
    button.textContent = "I'm on it";
    toast(error.message);
  }
}

async function refresh() {
  const page = await api("/api/alerts?limit=50");
  for (const alert of page.alerts) alerts.set(alert.id, normalise(alert));
  render();
}

async function onEvent(name, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    return;
  }
  if (name === "alert") {
    upsert(body);
    if (document.hidden && window.Notification?.permission !== "granted") document.title = "(!) Cradle";
  } else if (name === "state") {
    if (alerts.has(body.alert_id)) {
      upsert({ alert_id: body.alert_id, state: body.state, acknowledged_by: body.by });
    } else if (body.state === "raised" || body.state === "escalated") {
      try {
        upsert((await api(`/api/alerts/${encodeURIComponent(body.alert_id)}`)).alert);
      } catch { /* gone already */ }
    }
  }
}

/** Reads an SSE body: "id:", "event:", "data:" lines, a blank line ends an event. */
async function read(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = null, name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const [field, ...rest] = line.split(":");
        const text = rest.join(":").replace(/^ /, "");
        if (field === "id") id = text;
        else if (field === "event") name = text;
        else if (field === "data") data.push(text);
      }
      if (id) lastEventId = id;
      if (data.length) await onEvent(name, data.join("\n"));
    }
  }
}

async function connect() {
  controller?.abort();
  controller = new AbortController();
  const mine = controller;
  setConnection("connecting", "Connecting…");
  try {
    const response = await stream("/api/alerts/stream", { signal: mine.signal, lastEventId });
    if (response.status === 401) {
      window.dispatchEvent(new Event("cradle:signed-out"));
      return;
    }
    if (!response.ok) throw new Error(`feed answered ${response.status}`);
    setConnection("live", "Live");
    retryMs = 1000;
    await refresh();  // whatever happened while we were away
    await read(response);
  } catch (error) {
    if (mine.signal.aborted) return;
  }
  if (mine !== controller || mine.signal.aborted) return;
  const offline = !navigator.onLine;
  setConnection("down", offline ? "Offline: alerts will show when the connection is back"
    : `Connection lost: trying again in ${Math.round(retryMs / 1000)} s`);
  setTimeout(() => { if (mine === controller) connect(); }, retryMs);
  retryMs = Math.min(retryMs * 2, 15000);
}

export function init() {
  list = document.getElementById("alert-list");
  window.addEventListener("online", () => { retryMs = 1000; connect(); });
  window.addEventListener("offline", () => setConnection("down", "Offline: alerts will show when the connection is back"));
  connect();
  setInterval(render, 60_000);  // keep "5 min ago" true
}

export function stop() {
  controller?.abort();
  controller = null;
  alerts.clear();
  setConnection("idle", "Not connected");
}

export function show(id) {
  if (!id) return;
  const item = list.querySelector(`[data-id="${CSS.escape(id)}"]`);
  item?.scrollIntoView({ block: "center" });
  item?.querySelector("button")?.focus();
}
