// Slow work shown on the page while it runs: link previews and attachments
// (.link-preview, .attachment, id ending in the message id) and transcript exports (.export,
// id ending in the export id), each with data-status. Their results are pushed as they are
// ready (by id, no code here); a page whose socket opens again asks for the current state of
// those still pending ({"action": "tasks.refresh"}, refreshTasks from app.js), in case the
// result was pushed before this socket joined or while it was down.

const LIMIT = 100;

function ids(selector) {
  return Array.from(document.querySelectorAll(selector), (element) =>
    parseInt(element.id.split("-").pop(), 10));
}

export function refreshTasks(socket) {
  const messages = ids('.link-preview[data-status="pending"], .attachment[data-status="pending"]');
  const exports = ids('.export[data-status="pending"], .export[data-status="running"]');
  if (!messages.length && !exports.length) return;
  socket.send(JSON.stringify({
    action: "tasks.refresh", messages: messages.slice(-LIMIT), exports: exports.slice(0, LIMIT),
  }));
}
