// The app's shell: sign-in, the tabs (a hash route each), the service worker.

import { ApiError, api, current, forget, remember } from "./api.js";
import * as alerts from "./alerts.js";
import * as chat from "./chat.js";
import * as family from "./family.js";
import * as games from "./games.js";
import * as labels from "./labels.js";
import * as push from "./push.js";
import * as today from "./today.js";

const SCREENS = { chat, alerts, today, games, labels, family };
const TITLES = {
  chat: "Chat", alerts: "Alerts", today: "Today", games: "Games", labels: "Teach Cradle", family: "Family", signin: "Sign in",
};
const NOTICE = "cradle.notice";
let started = false;
let shown = null;

function route() {
  const [name, detail] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: SCREENS[name] ? name : "chat", detail: detail ? decodeURIComponent(detail) : null };
}

function showView(name, detail) {
  for (const view of document.querySelectorAll("main > .view")) view.hidden = view.dataset.view !== name;
  for (const tab of document.querySelectorAll("#tabs a")) {
    if (tab.dataset.view === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  document.title = `${TITLES[name]} · Cradle`;
  if (shown && shown !== name) SCREENS[shown]?.hide?.();
  const changed = shown !== name;
  shown = name;
  SCREENS[name]?.show?.(detail);
  if (changed) document.querySelector(`#view-${name} h1`)?.focus({ preventScroll: true });
}

function signedIn(session) {
  document.getElementById("tabs").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = session.name;
  if (!started) {
    started = true;
    for (const screen of Object.values(SCREENS)) screen.init?.(session);
    push.init();
  }
  const { name, detail } = route();
  showView(name, detail);
}

function signedOut(message = "") {
  shown = null;
  document.getElementById("tabs").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("signin-error").textContent = message;
  showView("signin");
}

async function signIn(token) {
  const error = document.getElementById("signin-error");
  error.textContent = "";
  try {
    const me = await api("/api/me", { token });
    signedIn(remember(token, me));
  } catch (failure) {
    error.textContent = failure instanceof ApiError && failure.status === 401
      ? "Cradle doesn't know that token: it was mistyped or revoked. Ask a parent for a new one."
      : failure.message;
    showView("signin");
  }
}

/** A sign-in link carries the token after # (never sent to the server, never logged). */
function tokenFromLink() {
  const match = location.hash.match(/^#token=([\w.~-]+)/);
  if (!match) return null;
  history.replaceState(null, "", `${location.pathname}#/chat`);
  return match[1];
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // No service worker (a private window, plain http on a LAN address): the app still works online.
  });
}

async function refreshSession(session) {
  try {  // names and children may have changed since this device signed in
    const me = await api("/api/me");
    remember(session.token, me);
  } catch { /* offline: the remembered session will do */ }
}

/** Forget the token and start the page afresh: nothing of this user's (the conversation,
 * the alerts, the live feed) stays on a shared tablet. The reason survives the reload. */
function leave(reason) {
  alerts.stop();
  forget();
  sessionStorage.setItem(NOTICE, reason);
  location.replace("/#/chat");
  location.reload();
}

function boot() {
  registerServiceWorker();
  document.getElementById("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(event.target.elements.token.value.trim());
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    await push.forgetDevice().catch(() => null);
    leave("Signed out. This device no longer holds your token.");
  });
  window.addEventListener("cradle:signed-out", () => {
    leave("Your token no longer works (it was revoked). Ask a parent for a new one.");
  });
  window.addEventListener("hashchange", () => {
    if (current()) showView(route().name, route().detail);
  });
  const linked = tokenFromLink();
  if (linked) return signIn(linked);
  const session = current();
  if (session) {
    signedIn(session);
    refreshSession(session);
  } else {
    signedOut(sessionStorage.getItem(NOTICE) || "");
    sessionStorage.removeItem(NOTICE);
  }
}

boot();
