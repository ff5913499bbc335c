// "… is typing": this tab says so while its person types in the composer (#composer-body), at
// most once per TYPING_EVERY_MS ({"action": "chat.typing"}; the server throttles too), and at
// once again for the next message after a send. The server pushes #typing-<user id> into
// #typing (data-replaces, data-expires-in: pushes.js renews and expires it); whoever sent a
// message has stopped typing it (stoppedTyping, called by app.js for each arrival).

import { pageSocket } from "./connection.js";

const TYPING_EVERY_MS = 2000;
let typingSentAt = 0;

document.addEventListener("input", (event) => {
  const socket = pageSocket();
  if (event.target.id !== "composer-body" || !socket || !event.target.value.trim()) return;
  const now = Date.now();
  if (now - typingSentAt < TYPING_EVERY_MS) return;
  typingSentAt = now;
  socket.send(JSON.stringify({ action: "chat.typing" }));
});

document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target.id === "composer") typingSentAt = 0;
});

export function stoppedTyping(article) {
  const author = article.dataset.author;
  if (author) document.getElementById(`typing-${author}`)?.remove();
}
