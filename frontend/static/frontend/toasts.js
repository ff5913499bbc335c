// Notifications as they arrive: toasts and the bell.
//
// - Toasts: the server pushes each new notification as a .toast (id="toast-<id>",
//   data-verb) at the top of #toasts (hx-swap-oob="afterbegin:#toasts"). Each goes away after
//   TOAST_MS, moves the page's notification cursor, and is told to notify.js (tab title,
//   mention marks, desktop notifications).
// - The cursor: the hidden form #notifications-resume (frontend/base.html) holds it; htmx
//   sends that form over the socket each time the socket opens (ws-send, hx-trigger
//   "htmx:wsOpen from:body"), and the server answers with the toasts after it.
// - The bell (#bell[data-count], with .badge): an announcement is one push for the whole site
//   (#announcement-banner[data-bump-bell]), so it cannot carry each viewer's count: the badge
//   counts one more here, and the server's count replaces it on the next update.

import { toastArrived } from "./notify.js";

const TOAST_MS = 6000;
const seen = new WeakSet(); // htmx fires the after-swap event more than once per frame

function moveCursor(toast) {
  const cursor = document.querySelector("#notifications-resume [name=after]");
  const shown = parseInt(toast.id.replace("toast-", ""), 10);
  if (cursor && shown > parseInt(cursor.value || "0", 10)) cursor.value = String(shown);
}

function bumpBell() {
  const bell = document.getElementById("bell");
  if (!bell) return;
  const count = parseInt(bell.dataset.count || "0", 10) + 1;
  bell.dataset.count = String(count);
  bell.setAttribute("aria-label", `Notifications, ${count} unread`);
  const badge = bell.querySelector(".badge");
  badge.textContent = String(count);
  badge.hidden = false;
}

document.addEventListener("htmx:oobAfterSwap", (event) => {
  const swapped = event.target;
  if (swapped.id === "announcement-banner" && swapped.hasAttribute("data-bump-bell")) {
    bumpBell();
  }
  // An afterbegin swap: the event fires on the socket's element, the new toast is first.
  const toast = event.detail.target.id === "toasts" && event.detail.target.firstElementChild;
  if (!toast || seen.has(toast)) return;
  seen.add(toast);
  setTimeout(() => toast.remove(), TOAST_MS);
  moveCursor(toast);
  toastArrived(toast);
});
