// The page's JavaScript: one small module per concern beside this one, each saying in its
// header what it does and which elements and server messages it relies on. htmx and its ws
// extension do the rest (swaps by id, the socket, reconnecting, sending forms).
//
// Modules register their own listeners when imported, in this order; where two listen to the
// same event the order matters once: pushes.js filters a fragment before messages.js and
// conversation.js see it arrive (messages.js imports it first).
//
// This module wires what spans modules: what each new socket asks for, in order (the
// notification cursor is sent by htmx itself: base.html's #notifications-resume), and what
// each message arriving in the conversation does.

// First: the page socket is known (connection.js) before anything below sends over it.
import "./connection.js";
import { onArrival, resumeConversation } from "./messages.js";
import "./composer.js";
import { sendUnacknowledged } from "./outbox.js";
import { stoppedTyping } from "./typing.js";
import { messageArrived, resumeReading } from "./rooms.js";
import { refreshTasks } from "./tasks.js";
import "./times.js";
import "./toasts.js";
import "./notify.js";
import "./conversation.js";

document.addEventListener("htmx:wsOpen", (event) => {
  const socket = event.detail.socketWrapper;
  resumeConversation(socket);
  sendUnacknowledged(socket);
  resumeReading();
  refreshTasks(socket);
});

onArrival(messageArrived);
onArrival(stoppedTyping);
