// The connection badge tells the truth, and nothing typed is lost while it is down.
//
// A socket whose network went away still looks open until TCP gives up, minutes later. So the
// page pings the server every PING_MS (realtime/heartbeat.py answers with #heartbeat) and
// counts the connection as dead when no answer came for DEAD_MS, or as soon as the browser
// says it is offline. A dead socket is dropped and a new one opened; htmx's ws extension then
// reconnects as usual, and app.js resumes the conversation from its cursor.
//
// A message sent while the connection is down is held here and shown as pending; it is sent
// once a socket opens again and stays pending until the server acknowledges its client id
// (the answered #composer-error), which the server saves once whatever the retries.

const PING_MS = 3000;
const DEAD_MS = 6000; // no answer for this long after a ping: the connection is dead
const PENDING_AFTER_MS = 1000; // a send not acknowledged by then shows as pending

const LABELS = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Reconnecting… (offline)",
  closed: "Disconnected — reload the page",
};

let socket = null; // htmx's wrapper of the page socket, while it is open
let raw = null; // the WebSocket it wraps
let sequence = 0;
let lastAnswer = 0;
let pingedAt = 0;
const held = []; // frames typed while the connection was down, oldest first
const pending = new Map(); // client id -> its pending element
const answered = new Set(); // client ids the server acknowledged (the newest few)

function setBadge(state) {
  const badge = document.getElementById("connection-status");
  if (!badge) return;
  badge.dataset.state = state === "offline" ? "reconnecting" : state;
  badge.textContent = LABELS[state];
}

function connected() {
  return socket !== null && navigator.onLine;
}

// Drop a socket that no longer answers and open another. Its own close event would arrive
// much later and schedule a second reconnect, so the extension is not told about it.
function replaceDeadSocket() {
  const wrapper = socket;
  socket = null;
  setBadge(navigator.onLine ? "reconnecting" : "offline");
  if (!raw) return;
  raw.onclose = null;
  raw.close();
  raw = null;
  if (navigator.onLine && wrapper) wrapper.reconnect();
  else deadWrapper = wrapper;
}
let deadWrapper = null; // the wrapper to reopen when the network comes back

function beat() {
  // A socket closing with the page (or being dropped) takes no more pings.
  if (!socket || raw.readyState !== WebSocket.OPEN) return;
  const now = Date.now();
  if (pingedAt > lastAnswer && now - pingedAt > DEAD_MS) {
    replaceDeadSocket();
    return;
  }
  if (pingedAt <= lastAnswer && now - pingedAt >= PING_MS) {
    sequence += 1;
    pingedAt = now;
    raw.send(JSON.stringify({ action: "ping", seq: sequence }));
  }
}
setInterval(beat, 1000);

document.addEventListener("htmx:wsOpen", (event) => {
  socket = event.detail.socketWrapper;
  raw = event.detail.event.target;
  lastAnswer = pingedAt = 0;
  if (!navigator.onLine) {
    setBadge("offline");
    return;
  }
  setBadge("open");
  while (held.length) socket.send(held.shift());
});
document.addEventListener("htmx:wsClose", (event) => {
  if (event.detail.event.target === raw) {
    socket = null;
    raw = null;
  }
});

window.addEventListener("offline", () => {
  if (socket) replaceDeadSocket();
  else setBadge("offline");
});
window.addEventListener("online", () => {
  setBadge("reconnecting");
  const wrapper = deadWrapper;
  deadWrapper = null;
  if (wrapper && !socket) wrapper.reconnect();
});

document.addEventListener("htmx:oobAfterSwap", (event) => {
  const swapped = event.target;
  if (swapped.id === "heartbeat") {
    lastAnswer = Date.now();
  } else if (swapped.id === "composer-error" && swapped.dataset.answered) {
    answered.add(swapped.dataset.answered);
    if (answered.size > 50) answered.delete(answered.values().next().value);
    const element = pending.get(swapped.dataset.answered);
    pending.delete(swapped.dataset.answered);
    if (element) element.remove();
  }
});

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside secure contexts randomUUID is missing; build a version-4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
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

// While the connection is down, a send from the composer is held here instead of queued
// behind a dead socket; the box is cleared as after any send.
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
  form.elements.body.value = "";
  form.elements.client_id.value = newClientId();
});

// A send that left over a socket that then died: pending if not answered soon.
document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target.id !== "composer") return;
  const frame = JSON.parse(event.detail.message);
  setTimeout(() => {
    if (!answered.has(frame.client_id)) showPending(frame.client_id, frame.body);
  }, PENDING_AFTER_MS);
});
