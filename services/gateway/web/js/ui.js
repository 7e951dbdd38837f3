// Small helpers every screen uses: building elements, a toast, times and moods in words.

export const MOODS = {
  feed: { word: "feeding", label: "Fed" },
  happy: { word: "happy", label: "Happy" },
  upset: { word: "upset", label: "Upset" },
  sleep: { word: "asleep", label: "Asleep" },
};

/** el("button", {class: "x", onclick}, "text", child...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

let toastTimer;
export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

export function clock(when) {
  return new Date(when).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export function ago(when, now = Date.now()) {
  const minutes = Math.round((now - new Date(when).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min ago`;
  return new Date(when).toLocaleString([], { weekday: "short", hour: "numeric", minute: "2-digit" });
}

export function duration(seconds) {
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** How a child is spoken of: "she", "he", "they". */
export function pronoun(child) {
  return (child && child.pronoun) || "they";
}

/** Fills a <select> with the family's children (hidden with its label for one child);
 * returns a function that gives the chosen child. */
export function childPicker(select, wrapper, children, onChange) {
  const kids = children.length ? children : [{ id: "Baby", name: "Baby", pronoun: "she" }];
  select.replaceChildren(...kids.map((c) => el("option", { value: c.id }, c.name || c.id)));
  wrapper.hidden = kids.length < 2;
  select.addEventListener("change", onChange);
  return () => kids.find((c) => c.id === select.value) || kids[0];
}
