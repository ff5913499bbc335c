// Writing and editing messages: a character count near the limit, a refusal instead of a
// silent cut, and the message editor's keys (Enter saves, Shift+Enter adds a line, Escape
// cancels). The editor takes focus by itself (autofocus, which htmx honours after a swap).
//
// The composer has no maxlength: a browser cuts a long paste to it without a word. The count
// shows from SHOW_FROM of the limit; past the limit the send is refused here, with the same
// words the server uses (chat/logic.py clean_body), and nothing is lost.

const SHOW_FROM = 0.9;
const format = new Intl.NumberFormat("en");

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

document.addEventListener("input", (event) => {
  if (event.target.id === "composer-body") showCount(event.target);
});
// After a send clears the box (or a refusal puts text back), count again.
document.addEventListener("htmx:wsAfterSend", () => {
  const box = document.getElementById("composer-body");
  if (box) showCount(box);
});
document.addEventListener("htmx:oobAfterSwap", (event) => {
  if (event.target.id === "composer-body") showCount(event.target);
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
  if (!(box instanceof HTMLTextAreaElement) || !box.closest(".message-editor")) return;
  if (event.key === "Escape") {
    event.preventDefault();
    box.form.querySelector("[data-cancel]").click();
  } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    box.form.requestSubmit();
  }
});
