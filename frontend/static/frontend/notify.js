// Telling people about what is theirs when they are not looking at it.
//
// - The tab title: while the tab is hidden, it starts with the number of unread messages in
//   the room list (the badges .unread[data-count] in #room-list and #direct-list, which
//   rooms.js counts live and the server replaces), or, on pages without one, the number of
//   notifications that arrived meanwhile. Visible again, the title is the page's own.
// - Mentions: a mention's toast (toastArrived, from toasts.js) marks its room's badge with "@"
//   (.unread-mention; the server renders the same mark on page load and whenever the reader's
//   cursor moves).
// - Desktop notifications (the Notification API), for direct messages and mentions only,
//   only while the tab is hidden, and only after the person turned them on with the button
//   (#desktop-notifications, #desktop-notifications-status) on the notifications page:
//   permission is asked on that click, never on load. Every tab of the person receives the
//   same toast; one tag per notification makes the browser show it once.

const PAGE_TITLE = document.title;
const DESKTOP_VERBS = new Set(["direct", "mention"]);
const DESKTOP_KEY = "relay.desktop-notifications";  // "on" or "off", this browser only
const ROOM_LISTS = ["#room-list", "#direct-list"];
let arrivedWhileHidden = 0;

function sidebarUnread() {
  if (!document.querySelector(ROOM_LISTS.join(", "))) return null;
  const badges = document.querySelectorAll(`${ROOM_LISTS.join(" .unread, ")} .unread`);
  let total = 0;
  badges.forEach((badge) => { total += Number(badge.dataset.count) || 0; });
  return total;
}

function updateTitle() {
  if (document.visibilityState === "visible") {
    arrivedWhileHidden = 0;
    document.title = PAGE_TITLE;
    return;
  }
  const unread = sidebarUnread();
  const count = unread === null ? arrivedWhileHidden : unread;
  document.title = count > 0 ? `(${count > 99 ? "99+" : count}) ${PAGE_TITLE}` : PAGE_TITLE;
}

// The badge of the room a toast links to, found by the link's path in the room list.
function badgeFor(toast) {
  const link = toast.querySelector("a[href]");
  if (!link) return null;
  const path = new URL(link.href, location.href).pathname;
  const selector = ROOM_LISTS.map((list) => `${list} a[href="${CSS.escape(path)}"]`).join(", ");
  const item = document.querySelector(selector);
  return item ? item.querySelector(".unread") : null;
}

function markMentioned(toast) {
  const badge = badgeFor(toast);
  const shown = document.querySelector("[data-room-id]");
  if (!badge || (shown && badge.id === `unread-${shown.dataset.roomId}` &&
                 document.visibilityState === "visible")) return;
  badge.dataset.mentioned = "";
  badge.querySelectorAll(".unread-mention").forEach((mark) => { mark.hidden = false; });
}

function desktopAllowed() {
  return "Notification" in window && Notification.permission === "granted" &&
    localStorage.getItem(DESKTOP_KEY) === "on";
}

function showOnDesktop(toast) {
  if (document.visibilityState === "visible" || !desktopAllowed()) return;
  const link = toast.querySelector("a[href]");
  const shown = new Notification("Relay", {
    body: toast.textContent.trim().replace(/\s+/g, " "),
    tag: `relay-${toast.id}`,
  });
  shown.addEventListener("click", () => {
    window.focus();
    if (link) location.assign(link.href);
    shown.close();
  });
}

export function toastArrived(toast) {
  arrivedWhileHidden += document.visibilityState === "visible" ? 0 : 1;
  const verb = toast.dataset.verb;
  if (verb === "mention") markMentioned(toast);
  if (DESKTOP_VERBS.has(verb)) showOnDesktop(toast);
  updateTitle();
}

// The button on the notifications page: says what a click will do, and does it.
function describeDesktopButton(button) {
  const status = document.getElementById("desktop-notifications-status");
  if (!("Notification" in window)) {
    button.hidden = true;
    if (status) status.textContent = "This browser cannot show desktop notifications.";
    return;
  }
  const permission = Notification.permission;
  button.hidden = permission === "denied";
  button.textContent = desktopAllowed()
    ? "Turn off desktop notifications"
    : "Turn on desktop notifications";
  button.setAttribute("aria-pressed", desktopAllowed() ? "true" : "false");
  if (status) {
    status.textContent = permission === "denied"
      ? "Desktop notifications are blocked in this browser's site settings."
      : desktopAllowed()
        ? "Direct messages and mentions show on your desktop while Relay is in the background."
        : "";
  }
}

async function toggleDesktop(button) {
  if (desktopAllowed()) {
    localStorage.setItem(DESKTOP_KEY, "off");
  } else {
    const permission = Notification.permission === "granted"
      ? "granted"
      : await Notification.requestPermission();
    localStorage.setItem(DESKTOP_KEY, permission === "granted" ? "on" : "off");
  }
  describeDesktopButton(button);
}

function start() {
  // Badges change by attribute (counted by rooms.js, which htmx has no event for) or are
  // replaced whole (pushed by the server); rooms come and go.
  const counted = new MutationObserver(updateTitle);
  document.querySelectorAll(ROOM_LISTS.join(", ")).forEach((list) => {
    counted.observe(list, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["data-count"],
    });
  });
  document.addEventListener("visibilitychange", updateTitle);
  const button = document.getElementById("desktop-notifications");
  if (button) {
    describeDesktopButton(button);
    button.addEventListener("click", () => toggleDesktop(button));
  }
  updateTitle();
}

start();
