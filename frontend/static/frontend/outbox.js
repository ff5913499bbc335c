// Nothing typed is lost: every message sent from the composer (#composer) is kept here until
// the server acknowledges its client id, by pushing #composer-error with data-answered.
//
// Every send takes one path: it is kept in `unacknowledged` by client id until that answer, and
// every new socket sends all of them again, oldest first (sendUnacknowledged, from app.js); the
// server saves each client id only once. A socket can open and close at once (the server accepts
// a socket before refusing it, e.g. 1013 when busy), so what was sent over it counts for nothing
// until answered.
// - Sent while the connection is down (connection.js): kept without being sent (not queued
//   behind a dead socket), and shown in #pending as "not sent yet" until answered.
// - Sent over a socket that then died: shown as pending if not acknowledged after
//   PENDING_AFTER_MS.
//
// htmx's ws extension makes the frame (ws-send on #composer); its htmx:wsConfigSend lets a
// send be held, and htmx:wsAfterSend says which frame left. The extension's own queue is not
// used for held sends: it would replay them through the form, with whatever the form holds then.

import { clearComposer } from "./composer.js";
import { connected } from "./connection.js";

const PENDING_AFTER_MS = 1000; // a send not acknowledged by then shows as pending

const unacknowledged = new Map(); // client id -> its frame, sent or held, oldest first
const pending = new Map(); // client id -> its pending element
const answered = new Set(); // client ids the server acknowledged (the newest few)

export function sendUnacknowledged(socket) {
  unacknowledged.forEach((frame) => socket.send(frame));
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

// While the connection is down, a send from the composer is kept for the next socket instead;
// the box is cleared as after any send. (composer.js, imported first, may already have refused it.)
document.addEventListener("htmx:wsConfigSend", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.id !== "composer" || connected()) return;
  const params = event.detail.parameters;
  if (!String(params.body || "").trim()) return;
  event.preventDefault();
  // htmx stops the form's own submission only for sends it makes.
  event.detail.triggeringEvent?.preventDefault();
  const frame = JSON.stringify({ ...params, HEADERS: event.detail.headers });
  unacknowledged.set(params.client_id, frame);
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
