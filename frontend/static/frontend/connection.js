// The page socket's life, as the person sees it: the connection badge (#connection-status),
// which tells the truth, and the sign-in page once the session has ended.
//
// htmx's ws extension opens the socket (body[ws-connect]) and reconnects after the close codes
// in RETRIED. Its events drive the badge: htmx:wsConnecting, htmx:wsOpen, htmx:wsClose. A close
// with SIGNED_OUT (realtime/sockets/closes.py) sends the page to the sign-in page and back. An open
// socket clears the last refusal's reason (#socket-error).
//
// A socket whose network went away still looks open until TCP gives up, minutes later. So the
// page pings the server every PING_MS ({"action": "ping"}; realtime/heartbeat.py answers with
// #heartbeat) and counts the connection as dead when no answer came for DEAD_MS, or as soon as
// the browser says it is offline. A dead socket is dropped and a new one opened; the extension
// then reconnects as usual, and app.js resumes every stream from its cursor.

const PING_MS = 3000;
const DEAD_MS = 6000; // no answer for this long after a ping: the connection is dead
// Close codes after which htmx's ws extension reconnects by itself.
const RETRIED = [1006, 1011, 1012, 1013];
// The close code of a socket whose session is no longer valid (realtime/sockets/closes.py).
const SIGNED_OUT = 4401;
const SIGN_IN_URL = "/accounts/login/";

const LABELS = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Reconnecting… (offline)",
  closed: "Disconnected — reload the page",
};

let page = null; // htmx's wrapper of the page socket, from its open to its close
let socket = null; // the same wrapper, while its connection answers
let raw = null; // the WebSocket it wraps
let deadWrapper = null; // the wrapper to reopen when the network comes back
let hadOpened = false;
let sequence = 0;
let lastAnswer = 0;
let pingedAt = 0;

// The page socket (htmx's wrapper: send() queues while it is not open), or null when closed.
export function pageSocket() {
  return page;
}

// Whether a send would reach the server now.
export function connected() {
  return socket !== null && navigator.onLine;
}

function setBadge(state) {
  const badge = document.getElementById("connection-status");
  if (!badge) return;
  badge.dataset.state = state === "offline" ? "reconnecting" : state;
  badge.textContent = LABELS[state];
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

document.addEventListener("htmx:wsConnecting", () => {
  setBadge(hadOpened ? "reconnecting" : "connecting");
});

document.addEventListener("htmx:wsOpen", (event) => {
  hadOpened = true;
  page = socket = event.detail.socketWrapper;
  raw = event.detail.event.target;
  lastAnswer = pingedAt = 0;
  // A refusal's reason (shown in the error line) is stale once a socket opens again.
  const error = document.getElementById("socket-error");
  if (error) error.textContent = "";
  setBadge(navigator.onLine ? "open" : "offline");
});

document.addEventListener("htmx:wsClose", (event) => {
  page = null;
  if (event.detail.event.target === raw) {
    socket = null;
    raw = null;
  }
  const code = event.detail.event.code;
  if (code === SIGNED_OUT) {
    // The session ended (signed out, password changed, expired): sign in again, then back.
    const here = window.location.pathname + window.location.search;
    window.location.assign(`${SIGN_IN_URL}?next=${encodeURIComponent(here)}`);
    return;
  }
  setBadge(RETRIED.includes(code) ? "reconnecting" : "closed");
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
  if (event.target.id === "heartbeat") lastAnswer = Date.now();
});
