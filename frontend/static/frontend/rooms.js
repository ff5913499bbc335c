// The rooms in the sidebar (#room-list, #direct-list): their unread counts, the reports that
// move the viewer's read cursor, and their order.
//
// - Counts: a push says only which room has which new message and whose, the same for
//   everyone (.room-activity with data-room, data-newest, data-author); each page counts it on
//   the room's badge (#unread-<room id>, with .unread-count) against its viewer's cursor
//   (data-read) and what it has counted (data-seen). The server's count replaces the badge
//   whenever the viewer reads, in any tab. Messages of people the viewer blocked are hidden
//   (the #blocked-authors style), so they are not counted either.
// - Reading: a room page ([data-room-id]) that is open and visible has been read up to its
//   newest message: {"action": "chat.read"}, at most one per READ_EVERY_MS while messages
//   stream in, again on each new socket (resumeReading, from app.js).
// - Order: rooms pushed into a list are sorted by name.

import { pageSocket } from "./connection.js";
import { messageNumber, newestShown } from "./messages.js";

const READ_EVERY_MS = 2000;

let readSent = 0;
let readTimer = null;

function shownRoom() {
  return document.querySelector("[data-room-id]")?.dataset.roomId ?? null;
}

function blockedAuthor(authorId) {
  const rules = document.getElementById("blocked-authors");
  return !!rules && rules.textContent.includes(`[data-author="${authorId}"]`);
}

function bumpUnread(roomId, messageId, authorId) {
  const badge = document.getElementById(`unread-${roomId}`);
  if (!badge || authorId === document.body.dataset.viewer || blockedAuthor(authorId)) return;
  // The room on screen is being read (a direct conversation's signal reaches its tab too).
  if (roomId === shownRoom() && document.visibilityState === "visible") return;
  if (messageId <= Number(badge.dataset.read) || messageId <= Number(badge.dataset.seen)) return;
  badge.dataset.seen = String(messageId);
  const count = Number(badge.dataset.count) + 1;
  badge.dataset.count = String(count);
  badge.querySelector(".unread-count").textContent = count > 99 ? "99+" : String(count);
  badge.hidden = false;
}

function markRead() {
  clearTimeout(readTimer);
  readTimer = null;
  const room = shownRoom();
  const socket = pageSocket();
  if (!room || !socket || document.visibilityState !== "visible") return;
  const upTo = newestShown();
  if (upTo <= readSent) return;
  readSent = upTo;
  socket.send(JSON.stringify({ action: "chat.read", room: Number(room), up_to: upTo }));
}

function markReadSoon() {
  if (readTimer === null) readTimer = setTimeout(markRead, READ_EVERY_MS);
}

// A new socket: a report may have been lost with the old one; the cursor never goes back.
export function resumeReading() {
  readSent = 0;
  markRead();
}

// A message arrived in the conversation on screen: read if the tab is seen, else counted.
export function messageArrived(article) {
  if (document.visibilityState === "visible") markReadSoon();
  else bumpUnread(shownRoom(), messageNumber(article), article.dataset.author);
}

function sortRoomList(list) {
  Array.from(list.children)
    .sort((a, b) => a.textContent.localeCompare(b.textContent))
    .forEach((item) => list.appendChild(item));
}

document.addEventListener("visibilitychange", markRead);

document.addEventListener("htmx:oobAfterSwap", (event) => {
  // For outerHTML swaps the event fires on the new element; detail.target is the old one.
  const swapped = event.target;
  if (swapped.classList?.contains("room-activity")) {
    bumpUnread(swapped.dataset.room, Number(swapped.dataset.newest), swapped.dataset.author);
  }
  const target = event.detail.target;
  if (target.id === "room-list" || target.id === "direct-list") sortRoomList(target);
});
