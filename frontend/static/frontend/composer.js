// Writing and editing messages: Enter sends (Shift+Enter adds a line), a character count near
// the limit, a refusal instead of a silent cut, a cleared box and a fresh client id after each
// send, and the message editor's keys (Enter saves, Shift+Enter adds a line, Escape cancels).
// The editor takes focus by itself (autofocus, which htmx honours after a swap).
//
// Elements: the composer form #composer (ws-send, with a hidden client_id), its box
// #composer-body (data-max-length), #composer-count, #composer-error; .message-editor forms.
// Server messages: #composer-body pushed back (a refused message, returned to its writer).
//
// The composer has no maxlength: a browser cuts a long paste to it without a word. The count
// shows from SHOW_FROM of the limit; past the limit the send is refused here, with the same
// words the server uses (chat/logic.py clean_body), and nothing is lost.
//
// The box and Send come disabled (chat/room.html) and are enabled once htmx has wired the form
// to the page socket. The page shows before its scripts run: typed into then, Enter only added
// a line and Send loaded the page again, so what was written never left.

const SHOW_FROM = 0.9;
const format = new Intl.NumberFormat("en");

// The id the server saves a message under once, whatever the retries.
function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside secure contexts randomUUID is missing; build a version-4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
}

// After a send leaves (or is held by outbox.js): clear the box, take a fresh id for the next.
export function clearComposer(form) {
  form.elements.body.value = "";
  form.elements.client_id.value = newClientId();
  showCount(form.elements.body);
}

function length(text) {
  // Characters as the server counts them: code points, one per line break.
  return [...text.replace(/\r\n?/g, "\n").trim()].length;
}

function limitOf(box) {
  return Number(box.dataset.maxLength);
}

function showCount(box) {
  const counter = document.getElementById("composer-count");
  if (!counter) return;
  const used = length(box.value);
  const limit = limitOf(box);
  const over = used > limit;
  counter.textContent = used >= limit * SHOW_FROM ? `${format.format(used)} / ${format.format(limit)}` : "";
  counter.classList.toggle("is-over", over);
  box.toggleAttribute("aria-invalid", over);
}

// htmx processes the body once the page's scripts have run; the ws extension wires its ws-send
// forms before the body's htmx:afterProcessNode.
document.addEventListener("htmx:afterProcessNode", (event) => {
  const form = document.getElementById("composer");
  if (!(form instanceof HTMLFormElement) || !event.target.contains(form)) return;
  form.elements.body.disabled = false;
  form.querySelector("button[type=submit]").disabled = false;
});

document.addEventListener("input", (event) => {
  if (event.target.id === "composer-body") showCount(event.target);
});
document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target.id === "composer") clearComposer(event.target);
});
// A refused message was put back: count it again and return the cursor to its end.
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const box = event.target;
  if (box.id !== "composer-body") return;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  showCount(box);
});

document.addEventListener("htmx:wsConfigSend", (event) => {
  const form = event.target;
  if (form.id !== "composer") return;
  const box = form.elements.body;
  const used = length(box.value);
  const limit = limitOf(box);
  if (used <= limit) return;
  event.preventDefault();
  // htmx stops the form's own submission only for sends it makes.
  event.detail.triggeringEvent?.preventDefault();
  const error = document.getElementById("composer-error");
  error.textContent =
    `That message is ${format.format(used)} characters long; the limit is ${format.format(limit)}.`;
  box.focus();
});

document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (box.id !== "composer-body" || event.key !== "Enter") return;
  if (event.shiftKey || event.isComposing) return;
  event.preventDefault();
  box.form.requestSubmit();
});

document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLTextAreaElement) || !box.closest(".message-editor")) return;
  if (event.key === "Escape") {
    event.preventDefault();
    box.form.querySelector("[data-cancel]").click();
  } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    box.form.requestSubmit();
  }
});
