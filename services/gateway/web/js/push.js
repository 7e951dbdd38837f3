// Web Push: the service worker shows alerts while the app is closed.

import { api } from "./api.js";

function bytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function registration() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) return null;
  return navigator.serviceWorker.ready;
}

async function describe(button, status) {
  const reg = await registration();
  if (!reg) {
    button.hidden = true;
    status.textContent = "This browser can't show alerts while Cradle is closed; keep the app open.";
    return null;
  }
  const subscription = await reg.pushManager.getSubscription();
  button.setAttribute("aria-pressed", subscription ? "true" : "false");
  button.textContent = subscription ? "Stop notifications on this device" : "Notify me when the app is closed";
  status.textContent = subscription ? "Alerts reach this device even when Cradle is closed."
    : Notification.permission === "denied" ? "Notifications are blocked in the browser's settings." : "";
  return subscription;
}

async function toggle(button, status) {
  const reg = await registration();
  if (!reg) return;
  button.disabled = true;
  try {
    const existing = await reg.pushManager.getSubscription();
    if (existing) {
      await api("/api/push/subscriptions", { method: "DELETE", json: { endpoint: existing.endpoint } })
        .catch(() => null);  // already gone on the server: unsubscribing here is what matters
      await existing.unsubscribe();
    } else {
      if (await Notification.requestPermission() !== "granted") {
        status.textContent = "Notifications were not allowed.";
        return;
      }
      const { public_key } = await api("/api/push/key");
      const subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: bytes(public_key),
      });
      await api("/api/push/subscriptions", { method: "POST", json: subscription.toJSON() });
    }
  } catch (error) {
    status.textContent = `Could not change notifications: ${error.message}`;
    return;
  } finally {
    button.disabled = false;
  }
  await describe(button, status);
}

export function init() {
  const button = document.getElementById("push-toggle");
  const status = document.getElementById("push-status");
  button.addEventListener("click", () => toggle(button, status));
  describe(button, status);
}

/** On sign-out this device stops getting the user's alerts. */
export async function forgetDevice() {
  const reg = await registration();
  const subscription = await reg?.pushManager.getSubscription();
  if (!subscription) return;
  await api("/api/push/subscriptions", { method: "DELETE", json: { endpoint: subscription.endpoint } })
    .catch(() => null);
  await subscription.unsubscribe();
}
