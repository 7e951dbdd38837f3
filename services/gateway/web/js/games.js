// Games: browse and filter the repository, read one aloud, rate it, add one.

import { api } from "./api.js";
import { speakFile } from "./chat.js";
import { clear, el, toast } from "./ui.js";

const PLACES = { indoor: "indoors", outdoor: "outdoors", bath: "bath", car: "car", bedtime: "bedtime" };
let list;
let searching = null;

function ageWords([low, high]) {
  const words = (m) => (m >= 24 && m % 12 === 0 ? `${m / 12} years` : `${m} months`);
  return `${words(low)} to ${words(high)}`;
}

function filters(form) {
  const data = new FormData(form);
  const params = new URLSearchParams({ limit: "30" });
  for (const name of ["q", "age_months", "place", "energy"]) {
    const value = String(data.get(name) || "").trim();
    if (value) params.set(name, value);
  }
  if (data.get("no_toys")) params.set("no_toys", "true");
  return params;
}

async function search(form) {
  searching?.abort();
  searching = new AbortController();
  const count = document.getElementById("games-count");
  count.textContent = "Looking…";
  try {
    const found = await api(`/api/games?${filters(form)}`, { signal: searching.signal });
    clear(list).append(...found.games.map(card));
    count.textContent = found.games.length
      ? `${found.games.length} game${found.games.length > 1 ? "s" : ""} found`
      : "No game fits all of that: try fewer filters.";
  } catch (error) {
    if (error.name !== "AbortError") count.textContent = error.message;
  }
}

async function readAloud(game, button) {
  button.disabled = true;
  button.textContent = "Reading…";
  try {
    const { audio_url } = await api(`/api/games/${encodeURIComponent(game.id)}/speech`, { method: "POST" });
    await speakFile(audio_url);
  } catch {
    if (window.speechSynthesis) {  // Cradle's voice is busy: the phone's own voice will do
      speechSynthesis.speak(new SpeechSynthesisUtterance(
        `${game.title}. ${game.steps.join(" ")} Safety: ${game.safety}`));
    } else {
      toast("Cradle can't read it aloud right now.");
    }
  } finally {
    button.disabled = false;
    button.textContent = "Read it aloud";
  }
}

async function vote(game, liked, item) {
  try {
    const answer = await api(`/api/games/${encodeURIComponent(game.id)}/vote`, { method: "PUT", json: { liked } });
    game.likes = answer.likes;
    game.my_vote = answer.my_vote;
    item.replaceWith(card(game));
    toast(liked ? `Noted: the family likes ${game.title}.` : `Noted: ${game.title} isn't a favourite.`);
  } catch (error) {
    toast(error.message);
  }
}

function card(game) {
  const item = el("li", { class: "card game", dataset: { id: game.id } });
  const materials = game.materials.length ? `Needs ${game.materials.join(", ")}` : "No toys needed";
  item.append(
    el("h2", {}, game.title),
    el("p", { class: "meta" },
      `${ageWords(game.age_months)} · ${game.minutes} min · ${game.energy} · `,
      game.places.map((p) => PLACES[p] || p).join(", ")),
    el("p", {}, materials),
    el("details", {},
      el("summary", {}, "How to play"),
      el("ol", {}, game.steps.map((step) => el("li", {}, step))),
      el("p", { class: "safety" }, el("strong", {}, "Safety: "), game.safety),
      game.added_by ? el("p", { class: "meta" }, `Added by ${game.added_by}`) : null),
    el("div", { class: "row actions" },
      el("button", { type: "button", onclick: (e) => readAloud(game, e.currentTarget) }, "Read it aloud"),
      el("button", {
        type: "button", class: "vote", "aria-pressed": game.my_vote === 1 ? "true" : "false",
        "aria-label": `I like ${game.title}`, onclick: () => vote(game, true, item),
      }, "👍"),
      el("button", {
        type: "button", class: "vote", "aria-pressed": game.my_vote === -1 ? "true" : "false",
        "aria-label": `Not for us: ${game.title}`, onclick: () => vote(game, false, item),
      }, "👎"),
      el("span", { class: "likes", "aria-label": `${game.likes} net likes` }, game.likes > 0 ? `+${game.likes}` : `${game.likes}`)));
  return item;
}

function newGame(form) {
  const data = new FormData(form);
  const split = (text, by) => String(text || "").split(by).map((s) => s.trim()).filter(Boolean);
  return {
    title: String(data.get("title")).trim(),
    age_months: [Number(data.get("age_from")), Number(data.get("age_to"))],
    places: data.getAll("places"),
    energy: data.get("energy"),
    materials: split(data.get("materials"), ","),
    minutes: Number(data.get("minutes")),
    skills: data.getAll("skills"),
    steps: split(data.get("steps"), "\n"),
    safety: String(data.get("safety")).trim(),
  };
}

async function add(form) {
  const error = document.getElementById("game-form-error");
  error.textContent = "";
  const game = newGame(form);
  if (!game.places.length || !game.skills.length) {
    error.textContent = "Pick at least one place and one thing it helps with.";
    return;
  }
  if (game.steps.length < 2 || game.steps.length > 5) {
    error.textContent = "Write two to five steps, one a line.";
    return;
  }
  try {
    const saved = await api("/api/games", { method: "POST", json: game });
    form.reset();
    document.getElementById("game-add").open = false;
    list.prepend(card(saved));
    toast(`Saved ${saved.title}. Ask for it any time.`);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

export function init(session) {
  list = document.getElementById("game-list");
  const form = document.getElementById("game-filters");
  const born = session.children[0]?.born;
  if (born) {
    const months = Math.floor((Date.now() - new Date(born).getTime()) / (30.44 * 24 * 3600_000));
    if (months >= 0 && months <= 48) form.elements.age_months.value = months;
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); search(form); });
  form.addEventListener("change", () => search(form));
  let typing;
  form.elements.q.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => search(form), 400); });
  document.getElementById("game-form").addEventListener("submit", (event) => {
    event.preventDefault();
    add(event.target);
  });
}

export function show() {
  if (!list.children.length) search(document.getElementById("game-filters"));
}
