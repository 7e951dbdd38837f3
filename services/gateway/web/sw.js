// Cradle's service worker: the app's shell offline, and alerts while the app is closed.
// The gateway fills in VERSION (a hash of the app's files) and FILES when it serves this.

const VERSION = "__VERSION__";
const FILES = ["__FILES__"];
const CACHE = `cradle-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("cradle-shell-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The shell comes from the cache (fast at 3 a.m. on weak Wi-Fi); the family's data never does.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The certificate is a download, not a page of the app: the network serves it.
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js" || url.pathname === "/ca.crt") return;
  const key = event.request.mode === "navigate" ? "/" : event.request;
  event.respondWith(caches.match(key, { ignoreSearch: true })
    .then((hit) => hit || fetch(event.request)));
});

self.addEventListener("push", (event) => {
  let alert = {};
  try {
    alert = event.data ? event.data.json() : {};
  } catch {
    alert = { title: "Cradle", body: event.data ? event.data.text() : "" };
  }
  const target = alert.alert_id ? `/#/alerts/${encodeURIComponent(alert.alert_id)}` : "/#/alerts";
  event.waitUntil(self.registration.showNotification(alert.title || "Cradle", {
    body: alert.body || "",
    tag: alert.alert_id || "cradle",
    renotify: true,
    requireInteraction: alert.severity === "urgent",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    timestamp: alert.raised_at ? Date.parse(alert.raised_at) : Date.now(),
    data: { url: target },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || "/#/alerts";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((open) => {
    for (const client of open) {
      if ("focus" in client) return client.navigate(url).then((c) => (c || client).focus());
    }
    return self.clients.openWindow(url);
  }));
});
