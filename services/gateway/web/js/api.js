// The gateway's API with the signed-in user's token, and the session kept on this device.

const KEY = "cradle.session";
let session = load();

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

export function current() {
  return session;
}

export function remember(token, me) {
  session = { token, name: me.name, role: me.role, children: me.children || [] };
  localStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function forget() {
  session = null;
  localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function authHeaders(token = session?.token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function explain(body, status) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) {  // FastAPI's validation errors: say which field and why
    return detail.map((d) => `${(d.loc || []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  if (typeof detail === "string") return detail;
  if (detail && typeof detail.message === "string") return detail.message;  // e.g. 409: the game the family has
  return status >= 500 ? "Cradle had a problem answering; try again." : `request failed (${status})`;
}

/** JSON in, JSON out. `form` sends multipart (a recording); `token` checks one not yet kept. */
export async function api(path, { method = "GET", json, form, token, signal } = {}) {
  const headers = authHeaders(token);
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "Cradle can't be reached: check the Wi-Fi, then try again.");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && !token) window.dispatchEvent(new Event("cradle:signed-out"));
    throw new ApiError(response.status, explain(data, response.status));
  }
  return data;
}

/** A private file (a snapshot, a spoken reply) as an object URL the page can show or play. */
export async function blobUrl(path, { signal } = {}) {
  const response = await fetch(path, { headers: authHeaders(), signal });
  if (!response.ok) throw new ApiError(response.status, `could not load ${path.split("?")[0]}`);
  return URL.createObjectURL(await response.blob());
}

// Pictures by path, so a list drawn again does not fetch them again; the oldest are let go.
const pictures = new Map();
const KEEP = 150;

function picture(path) {
  if (!pictures.has(path)) {
    const loading = blobUrl(path);
    loading.catch(() => pictures.delete(path));
    pictures.set(path, loading);
    if (pictures.size > KEEP) {
      const [oldest, url] = pictures.entries().next().value;
      pictures.delete(oldest);
      url.then((u) => URL.revokeObjectURL(u)).catch(() => null);
    }
  }
  return pictures.get(path);
}

/** Fills an <img> from a private URL (a snapshot needs the token, so no plain src=). */
export async function showImage(img, path, alt) {
  try {
    img.src = await picture(path);
    img.alt = alt;
  } catch {
    img.removeAttribute("src");
    img.alt = "The picture is no longer kept";
    img.classList.add("missing");
  }
}

export function stream(path, { signal, lastEventId } = {}) {
  const headers = { ...authHeaders(), Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  return fetch(path, { headers, signal, cache: "no-store" });
}

// Pictures further down a long list are fetched only as they come near the screen.
const pending = new WeakMap();
const watcher = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    watcher.unobserve(entry.target);
    const [path, alt] = pending.get(entry.target) || [];
    if (path) showImage(entry.target, path, alt);
  }
}, { rootMargin: "300px" }) : null;

export function showImageWhenSeen(img, path, alt) {
  if (!watcher) return showImage(img, path, alt);
  pending.set(img, [path, alt]);
  watcher.observe(img);
  return null;
}
