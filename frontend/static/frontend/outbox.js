// Nothing typed is lost: every message sent from the composer (#composer) is kept here until
// the server acknowledges its client id, by pushing #composer-error with data-answered.
//
// - Sent, not yet acknowledged: kept by client id and sent again on every new socket
//   (resendUnacknowledged, from app.js); the server saves each client id only once.
// - Sent while the connection is down (connection.js): held here instead of queued behind a
//   dead socket, shown in #pending as "not sent yet", and sent once a socket opens (sendHeld).
// - Sent over a socket that then died: shown as pending if not acknowledged after
//   PENDING_AFTER_MS.
//
// htmx's ws extension makes the frame (ws-send on #composer); its htmx:wsConfigSend lets a
// send be held, and htmx:wsAfterSend says which frame left. The extension's own queue is not
// used for held sends: it would replay them through the form, with whatever the form holds then.

import { clearComposer } from "./composer.js";
import { connected } from "./connection.js";

const PENDING_AFTER_MS = 1000; // a send not acknowledged by then shows as pending

const unacknowledged = new Map(); // client id -> the frame that left
const held = []; // frames typed while the connection was down, oldest first
const pending = new Map(); // client id -> its pending element
const answered = new Set(); // client ids the server acknowledged (the newest few)

export function resendUnacknowledged(socket) {
  unacknowledged.forEach((frame) => socket.send(frame));
}

export function sendHeld(socket) {
  if (!navigator.onLine) return;
  while (held.length) socket.send(held.shift());
}

function showPending(clientId, body) {
  const list = document.getElementById("pending");
  if (!list || pending.has(clientId)) return;
  const item = document.createElement("article");
  item.className = "message is-pending";
  item.dataset.clientId = clientId;
  const text = document.createElement("div");
  text.className = "body";
  text.dir = "auto";
  text.textContent = body;
  const note = document.createElement("p");
  note.className = "pending-note";
  note.textContent = "Not sent yet: waiting for the connection…";
  item.append(text, note);
  list.append(item);
  pending.set(clientId, item);
  const scroller = document.getElementById("scroller");
  if (scroller) scroller.scrollTop = scroller.scrollHeight;
}

// While the connection is down, a send from the composer is held instead; the box is cleared
// as after any send. (composer.js, imported first, may already have refused it.)
document.addEventListener("htmx:wsConfigSend", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.id !== "composer" || connected()) return;
  const params = event.detail.parameters;
  if (!String(params.body || "").trim()) return;
  event.preventDefault();
  // htmx stops the form's own submission only for sends it makes.
  event.detail.triggeringEvent?.preventDefault();
  held.push(JSON.stringify({ ...params, HEADERS: event.detail.headers }));
  showPending(params.client_id, params.body);
  clearComposer(form);
});

document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target.id !== "composer") return;
  const frame = JSON.parse(event.detail.message);
  unacknowledged.set(frame.client_id, event.detail.message);
  // A send that left over a socket that then died: pending if not answered soon.
  setTimeout(() => {
    if (!answered.has(frame.client_id)) showPending(frame.client_id, frame.body);
  }, PENDING_AFTER_MS);
});

document.addEventListener("htmx:oobAfterSwap", (event) => {
  const swapped = event.target;
  const clientId = swapped.id === "composer-error" && swapped.dataset.answered;
  if (!clientId) return;
  unacknowledged.delete(clientId);
  answered.add(clientId);
  if (answered.size > 50) answered.delete(answered.values().next().value);
  const element = pending.get(clientId);
  pending.delete(clientId);
  if (element) element.remove();
});
