// The Family screen: the children (name, nicknames, birth date and age, pronoun, cameras) and
// who looks after them; a parent adds, edits and removes a child (GET/POST/PATCH/DELETE /api/family).

import { api, current, remember } from "./api.js";
import { clear, el, toast } from "./ui.js";

let family = { children: [], caregivers: [], cameras: [] };

function parent() {
  return current()?.role === "parent";
}

function age(months) {
  if (months === null || months === undefined) return "";
  if (months < 24) return `${months} month${months === 1 ? "" : "s"}`;
  return `${Math.floor(months / 12)} years ${months % 12} months`;
}

function born(child) {
  if (!child.born) return "Birth date not given";
  const day = new Date(`${child.born}T12:00:00`).toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" });
  return `Born ${day} (${age(child.age_months)})`;
}

function card(child) {
  const titleId = `child-${child.id}`;
  return el("li", { class: "card child", "aria-labelledby": titleId },
    el("h3", { id: titleId }, child.name),
    child.nicknames.length ? el("p", {}, `Also called ${child.nicknames.join(", ")}`) : "",
    el("p", {}, born(child)),
    el("p", {}, `Spoken of as ${child.pronoun}`),
    el("p", {}, child.cameras.length ? `Watched by ${child.cameras.join(", ")}` : "No camera watches this child"),
    parent() ? el("div", { class: "row" },
      el("button", { type: "button", class: "quiet", onclick: () => startEdit(child) }, `Edit ${child.name}`),
      el("button", { type: "button", class: "quiet", onclick: () => removeChild(child) }, `Remove ${child.name}`),
    ) : "");
}

function caregiver(user) {
  return el("li", { class: "card" }, el("strong", {}, user.name), ` · ${user.role}`);
}

function cameraChoices(chosen = []) {
  const box = document.getElementById("child-cameras");
  const legend = box.querySelector("legend");
  box.replaceChildren(legend, ...family.cameras.map((name) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "cameras", value: name, checked: chosen.includes(name) }), ` ${name}`)));
}

function render() {
  clear(document.getElementById("family-children")).append(...family.children.map(card));
  clear(document.getElementById("family-caregivers")).append(...family.caregivers.map(caregiver));
  document.getElementById("child-add").hidden = !parent();
  if (!document.getElementById("child-form").elements.id.value) cameraChoices();
}

async function load() {
  const error = document.getElementById("family-error");
  error.textContent = "";
  try {
    family = await api("/api/family");
    render();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

/** The other screens name the children from the session: keep it as the family is now. */
async function refreshSession() {
  const session = current();
  try {
    remember(session.token, await api("/api/me"));
  } catch { /* the next sign-in will */ }
}

function formChild(form) {
  const data = new FormData(form);
  return {
    name: String(data.get("name")).trim(),
    born: String(data.get("born")),
    pronoun: data.get("pronoun"),
    nicknames: String(data.get("nicknames") || "").split(",").map((s) => s.trim()).filter(Boolean),
    cameras: data.getAll("cameras"),
  };
}

function resetForm() {
  const form = document.getElementById("child-form");
  form.reset();
  form.elements.id.value = "";
  document.getElementById("child-form-title").textContent = "Add a child";
  document.getElementById("child-save").textContent = "Add the child";
  document.getElementById("child-cancel").hidden = true;
  document.getElementById("child-form-error").textContent = "";
  cameraChoices();
}

function startEdit(child) {
  const form = document.getElementById("child-form");
  form.elements.id.value = child.id;
  form.elements.name.value = child.name;
  form.elements.born.value = child.born || "";
  form.elements.pronoun.value = child.pronoun;
  form.elements.nicknames.value = child.nicknames.join(", ");
  cameraChoices(child.cameras);
  document.getElementById("child-form-title").textContent = `Edit ${child.name}`;
  document.getElementById("child-save").textContent = "Save the changes";
  document.getElementById("child-cancel").hidden = false;
  const details = document.getElementById("child-add");
  details.open = true;
  form.elements.name.focus();
}

async function save(form) {
  const error = document.getElementById("child-form-error");
  error.textContent = "";
  const child = formChild(form);
  const editing = form.elements.id.value;
  try {
    const saved = editing
      ? await api(`/api/family/children/${encodeURIComponent(editing)}`, { method: "PATCH", json: child })
      : await api("/api/family/children", { method: "POST", json: child });
    toast(editing ? `Saved ${saved.name}.` : `Added ${saved.name}. Cradle knows ${saved.name} now.`);
    resetForm();
    document.getElementById("child-add").open = false;
    await load();
    refreshSession();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

async function removeChild(child) {
  if (!window.confirm(`Remove ${child.name} from the family? Their timeline stays until it ages out.`)) return;
  const error = document.getElementById("family-error");
  error.textContent = "";
  try {
    await api(`/api/family/children/${encodeURIComponent(child.id)}`, { method: "DELETE" });
    toast(`Removed ${child.name}.`);
    await load();
    refreshSession();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

export function init() {
  document.getElementById("child-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save(event.target);
  });
  document.getElementById("child-cancel").addEventListener("click", () => {
    resetForm();
    document.getElementById("child-add").open = false;
  });
}

export function show() {
  load();
}
