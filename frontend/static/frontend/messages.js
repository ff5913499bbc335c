// The conversation's messages as a stream: where the page resumes it from, and each pushed
// message put in its place.
//
// - Resume (resumeConversation, called by app.js when the socket opens, on a page with
//   #composer): {"action": "chat.resume"} with the newest message shown (#history and #messages
//   children .message with id="message-<id>", or #messages[data-after] when newer), the ids of
//   the newest RESUME_SHOWN shown (to fill holes), and the change cursor
//   (#change-cursor[data-after], which each pushed edit or delete moves on).
// - Order: a pushed message (swapped into #messages) may arrive before an older one that was
//   replayed or delayed: it is moved to its place by id. Duplicates never get here: pushes.js
//   skips a fragment whose id the page already has.
// - Arrival: the functions given to onArrival (app.js) are called with each new message.

// Its filter runs first: a fragment it skips never arrives here.
import "./pushes.js";

const RESUME_SHOWN = 50;
const SHOWN = "#history > .message, #messages > .message";

const arrivalHandlers = [];
let arriving = null; // the message being swapped in (the after-swap event fires elsewhere)

export function onArrival(handler) {
  arrivalHandlers.push(handler);
}

export function messageNumber(element) {
  return parseInt(element.id.slice("message-".length), 10);
}

// The newest message the page shows: how far its reader has read.
export function newestShown() {
  let last = 0;
  document.querySelectorAll(SHOWN).forEach((element) => {
    last = Math.max(last, messageNumber(element));
  });
  return last;
}

// The newest messages the page shows, by id: a resume also fills the holes between them
// (a push lost on its way while a newer message, sent through another server, arrived).
function shownIds() {
  const ids = Array.from(document.querySelectorAll(SHOWN), messageNumber);
  return ids.sort((a, b) => a - b).slice(-RESUME_SHOWN);
}

// The cursor the page resumes new messages from. A page opened around an older message
// fills the gap up to data-after with "Load newer"; the live log starts after it. Edits
// and deletes have a cursor of their own, #change-cursor, which each of them moves on.
function lastMessageId() {
  const live = document.getElementById("messages");
  return Math.max(newestShown(), parseInt(live?.dataset.after || "0", 10));
}

export function resumeConversation(socket) {
  if (!document.getElementById("composer")) return;
  const changes = document.getElementById("change-cursor");
  socket.send(JSON.stringify({
    action: "chat.resume",
    after: lastMessageId(),
    have: shownIds(),
    changes_after: changes ? parseInt(changes.dataset.after, 10) : 0,
  }));
}

// Replayed and live messages can interleave; keep the log in id order.
function placeInOrder(article) {
  let before = article.previousElementSibling;
  while (before && before.classList.contains("message") &&
         messageNumber(before) > messageNumber(article)) {
    before = before.previousElementSibling;
  }
  const after = before ? before.nextElementSibling : article.parentNode.firstElementChild;
  if (after !== article) article.parentNode.insertBefore(article, after);
}

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const incoming = event.detail.fragment?.firstElementChild;
  if (event.detail.target.id === "messages" && incoming && event.detail.shouldSwap) {
    arriving = incoming;
  }
});

// htmx fires this once per element settled so far in the frame, so handlers are idempotent.
document.addEventListener("htmx:oobAfterSwap", (event) => {
  if (event.detail.target.id !== "messages" || !arriving?.isConnected) return;
  placeInOrder(arriving);
  arrivalHandlers.forEach((handler) => handler(arriving));
});
