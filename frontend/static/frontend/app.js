// The little the page needs beyond htmx: keyboard sending, the connection badge (and the
// sign-in page once the session has ended), local times, keeping the conversation scrolled to
// the newest message, the rooms' unread counts, and asking for task results the page may have
// missed.
(function () {
  "use strict";

  var STATES = {
    connecting: "Connecting…",
    open: "Connected",
    reconnecting: "Reconnecting…",
    closed: "Disconnected — reload the page",
  };
  // Close codes after which htmx's ws extension reconnects by itself.
  var RETRIED = [1006, 1011, 1012, 1013];
  // The close code of a socket whose session is no longer valid (realtime.sockets.closes).
  var SIGNED_OUT = 4401;
  var SIGN_IN_URL = "/accounts/login/";

  function setConnection(state) {
    var badge = document.getElementById("connection-status");
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = STATES[state];
  }

  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = el.dataset.format === "date"
        ? when.toLocaleDateString([], { year: "numeric", month: "long", day: "numeric" })
        : when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
      el.title = when.toLocaleString();
    });
  }

  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Outside secure contexts randomUUID is missing; build a version-4 UUID by hand.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  var TOAST_MS = 6000;

  // An announcement is one push for the whole site, so it cannot carry each viewer's count:
  // the badge counts one more here, and the server's count replaces it on the next update.
  function bumpBell() {
    var bell = document.getElementById("bell");
    if (!bell) return;
    var count = parseInt(bell.dataset.count || "0", 10) + 1;
    bell.dataset.count = String(count);
    bell.setAttribute("aria-label", "Notifications, " + count + " unread");
    var badge = bell.querySelector(".badge");
    badge.textContent = String(count);
    badge.hidden = false;
  }

  function scroller() {
    return document.getElementById("scroller");
  }

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  function scrollToEnd() {
    var el = scroller();
    if (el) el.scrollTop = el.scrollHeight;
  }

  function messageNumber(el) {
    return parseInt(el.id.slice("message-".length), 10);
  }

  // The newest message the page shows: how far its reader has read.
  function newestShown() {
    var last = 0;
    document.querySelectorAll("#history > .message, #messages > .message").forEach(function (el) {
      last = Math.max(last, messageNumber(el));
    });
    return last;
  }

  // The newest messages the page shows, by id: a resume also fills the holes between them
  // (a push lost on its way while a newer message, sent through another server, arrived).
  var RESUME_SHOWN = 50;
  function shownIds() {
    var ids = [];
    document.querySelectorAll("#history > .message, #messages > .message").forEach(function (el) {
      ids.push(messageNumber(el));
    });
    return ids.sort(function (a, b) { return a - b; }).slice(-RESUME_SHOWN);
  }

  // The cursor the page resumes new messages from. A page opened around an older message
  // fills the gap up to data-after with "Load newer"; the live log starts after it. Edits
  // and deletes have a cursor of their own, #change-cursor, which each of them moves on.
  function lastMessageId() {
    var live = document.getElementById("messages");
    return Math.max(newestShown(), parseInt((live && live.dataset.after) || "0", 10));
  }

  // Unread counts beside the rooms. A push says only which room has which new message and
  // whose, the same for everyone; each page counts it against its viewer's cursor
  // (data-read) and what it has counted (data-seen). The server's count replaces the badge
  // whenever the viewer reads, in any tab. Messages of people the viewer blocked are hidden
  // (the #blocked-authors style), so they are not counted either.
  function bumpUnread(roomId, messageId, authorId) {
    var badge = document.getElementById("unread-" + roomId);
    if (!badge || authorId === document.body.dataset.viewer || blockedAuthor(authorId)) return;
    // The room on screen is being read (a direct conversation's signal reaches its tab too).
    if (roomId === shownRoom() && document.visibilityState === "visible") return;
    if (messageId <= Number(badge.dataset.read) || messageId <= Number(badge.dataset.seen)) return;
    badge.dataset.seen = String(messageId);
    var count = Number(badge.dataset.count) + 1;
    badge.dataset.count = String(count);
    badge.querySelector(".unread-count").textContent = count > 99 ? "99+" : String(count);
    badge.hidden = false;
  }

  function blockedAuthor(authorId) {
    var rules = document.getElementById("blocked-authors");
    return !!rules && rules.textContent.indexOf('[data-author="' + authorId + '"]') >= 0;
  }

  var openSocket = null;  // the page socket, while it is open

  // A room page that is open and visible has been read up to its newest message.
  var readSent = 0;
  var readTimer = null;
  var READ_EVERY_MS = 2000;  // while messages stream in, at most one read report per 2 s

  function shownRoom() {
    var room = document.querySelector("[data-room-id]");
    return room ? room.dataset.roomId : null;
  }

  function markRead() {
    clearTimeout(readTimer);
    readTimer = null;
    var room = shownRoom();
    if (!room || !openSocket || document.visibilityState !== "visible") return;
    var upTo = newestShown();
    if (upTo <= readSent) return;
    readSent = upTo;
    openSocket.send(JSON.stringify({ action: "chat.read", room: Number(room), up_to: upTo }));
  }

  function markReadSoon() {
    if (readTimer === null) readTimer = setTimeout(markRead, READ_EVERY_MS);
  }

  document.addEventListener("visibilitychange", markRead);

  // Replayed and live messages can interleave; keep the log in id order.
  function placeInOrder(article) {
    var before = article.previousElementSibling;
    while (before && before.classList.contains("message") &&
           messageNumber(before) > messageNumber(article)) {
      before = before.previousElementSibling;
    }
    var after = before ? before.nextElementSibling : article.parentNode.firstElementChild;
    if (after !== article) article.parentNode.insertBefore(article, after);
  }

  // Sends that left but were not yet acknowledged, by client id. If the socket drops first
  // they are sent again once it reopens; the server saves each client id only once.
  var unacknowledged = new Map();

  // Typing signals: at most one per TYPING_EVERY_MS from this tab (the server throttles too).
  var TYPING_EVERY_MS = 2000;
  var typingSentAt = 0;
  document.addEventListener("input", function (event) {
    if (event.target.id !== "composer-body" || !openSocket || !event.target.value.trim()) return;
    var now = Date.now();
    if (now - typingSentAt < TYPING_EVERY_MS) return;
    typingSentAt = now;
    openSocket.send(JSON.stringify({ action: "chat.typing" }));
  });

  var hadOpened = false;
  document.addEventListener("htmx:wsConnecting", function () {
    setConnection(hadOpened ? "reconnecting" : "connecting");
  });
  document.addEventListener("htmx:wsOpen", function (event) {
    hadOpened = true;
    setConnection("open");
    // A refusal's reason (shown in the error line) is stale once a socket opens again.
    var error = document.getElementById("socket-error");
    if (error) error.textContent = "";
    var socket = event.detail.socketWrapper;
    openSocket = socket;
    if (document.getElementById("composer")) {
      var changes = document.getElementById("change-cursor");
      socket.send(JSON.stringify({
        action: "chat.resume",
        after: lastMessageId(),
        have: shownIds(),
        changes_after: changes ? parseInt(changes.dataset.after, 10) : 0,
      }));
    }
    var toasts = document.getElementById("toasts");
    if (toasts && toasts.dataset.after) {
      socket.send(JSON.stringify({
        action: "notifications.resume",
        after: parseInt(toasts.dataset.after, 10),
      }));
    }
    unacknowledged.forEach(function (frame) { socket.send(frame); });
    readSent = 0;  // a report may have been lost with the old socket; the cursor never goes back
    markRead();
    askForTaskResults(socket);
  });

  // Previews, thumbnails and exports still in progress on this page: ask for their current
  // state, in case the result was pushed before this socket joined or while it was down.
  function askForTaskResults(socket) {
    function ids(selector) {
      return Array.from(document.querySelectorAll(selector), function (el) {
        return parseInt(el.id.split("-").pop(), 10);
      });
    }
    var messages = ids('.link-preview[data-status="pending"], .attachment[data-status="pending"]');
    var exports = ids('.export[data-status="pending"], .export[data-status="running"]');
    if (!messages.length && !exports.length) return;
    socket.send(JSON.stringify({
      action: "tasks.refresh", messages: messages.slice(-100), exports: exports.slice(0, 100),
    }));
  }
  document.addEventListener("htmx:wsClose", function (event) {
    openSocket = null;
    var code = event.detail.event.code;
    if (code === SIGNED_OUT) {
      // The session ended (signed out, password changed, expired): sign in again, then back.
      var here = window.location.pathname + window.location.search;
      window.location.assign(SIGN_IN_URL + "?next=" + encodeURIComponent(here));
      return;
    }
    setConnection(RETRIED.indexOf(code) >= 0 ? "reconnecting" : "closed");
  });

  // A fragment pushed twice (a retried send, a replay after reconnecting) is swapped once.
  // Fragments sent to everyone but marked data-not-for="<user id>" skip that user's tabs
  // (an announcement's author has no notification of their own).
  var stickToBottom = false;
  var pushing = 0;  // > 0 while a pushed frame is being swapped
  document.addEventListener("htmx:wsBeforeMessage", function () { pushing += 1; });
  document.addEventListener("htmx:wsAfterMessage", function () { pushing -= 1; });
  var arriving = null;  // the message being swapped in (the after-swap event fires elsewhere)
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    var notFor = incoming && incoming.getAttribute("data-not-for");
    if (notFor && notFor === document.body.dataset.viewer) {
      event.detail.shouldSwap = false;
      return;
    }
    // A push must not replace an element whose own request is still in flight (the tab that
    // clicked "Mark read"): the response brings the same state and needs its element.
    if (pushing > 0 && event.detail.target.querySelector(".htmx-request")) {
      event.detail.shouldSwap = false;
      return;
    }
    var inserting = incoming && incoming.id && incoming.id !== event.detail.target.id;
    // Fragments marked data-replaces take the place of their earlier copy (typing renewed).
    if (inserting && incoming.hasAttribute("data-replaces")) {
      var earlier = document.getElementById(incoming.id);
      if (earlier) earlier.remove();
    }
    if (inserting && document.getElementById(incoming.id)) {
      event.detail.shouldSwap = false;
      return;
    }
    if (event.detail.target.id === "messages" && incoming) {
      var el = scroller();
      stickToBottom = !!el && nearBottom(el);
      arriving = incoming;
    }
  });
  // htmx fires this once per element settled so far in the frame, so handlers are idempotent.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target.id === "messages") {
      if (arriving && arriving.isConnected) {
        placeInOrder(arriving);
        if (document.visibilityState === "visible") markReadSoon();
        else bumpUnread(shownRoom(), messageNumber(arriving), arriving.dataset.author);
      }
      localizeTimes(target);
      var mine = target.lastElementChild &&
        target.lastElementChild.dataset.author === document.body.dataset.viewer;
      if (stickToBottom || mine) scrollToEnd();
      // Whoever sent a message has stopped typing it.
      var author = arriving && arriving.dataset.author;
      var typing = author && document.getElementById("typing-" + author);
      if (typing) typing.remove();
    }
    // For outerHTML swaps the event fires on the new element; detail.target is the old one.
    var swapped = event.target;
    // Short-lived fragments (typing) go away by themselves unless renewed (a renewal is a
    // new element with a timer of its own).
    document.querySelectorAll("[data-expires-in]:not([data-expiring])").forEach(function (el) {
      el.setAttribute("data-expiring", "");
      setTimeout(function () { el.remove(); }, parseFloat(el.dataset.expiresIn) * 1000);
    });
    if (swapped.id === "announcement-banner" && swapped.hasAttribute("data-bump-bell")) {
      bumpBell();
    }
    if (swapped.classList && swapped.classList.contains("room-activity")) {
      bumpUnread(swapped.dataset.room, Number(swapped.dataset.newest), swapped.dataset.author);
    }
    if (swapped.id === "composer-error" && swapped.dataset.answered) {
      unacknowledged.delete(swapped.dataset.answered);
    }
    if (target.id === "room-list" || target.id === "direct-list") {
      sortRoomList(target);
    }
    if (target.id === "toasts") {
      var toast = target.firstElementChild;
      setTimeout(function () { toast.remove(); }, TOAST_MS);
      // The notification cursor: a reconnecting socket asks for toasts after it.
      var shown = parseInt(toast.id.replace("toast-", ""), 10);
      if (shown > parseInt(target.dataset.after || "0", 10)) target.dataset.after = String(shown);
    }
    if (target.id === "composer-body") {
      // A refused message was put back: return the cursor to it.
      var box = document.getElementById("composer-body");
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    }
  });

  function sortRoomList(list) {
    Array.from(list.children)
      .sort(function (a, b) { return a.textContent.localeCompare(b.textContent); })
      .forEach(function (item) { list.appendChild(item); });
  }

  // After a send leaves, clear the box and take a fresh id for the next message.
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    unacknowledged.set(form.elements.client_id.value, event.detail.message);
    typingSentAt = 0;  // the next message's typing shows at once
    form.querySelector("#composer-body").value = "";
    form.elements.client_id.value = newClientId();
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (box.id !== "composer-body" || event.key !== "Enter") return;
    if (event.shiftKey || event.isComposing) return;
    event.preventDefault();
    box.form.requestSubmit();
  });

  // Older messages load above what the reader is looking at: keep it where it was.
  var keepFromBottom = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = scroller();
    if (el && event.detail.target.id === "load-older") {
      keepFromBottom = el.scrollHeight - el.scrollTop;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var el = scroller();
    if (el && keepFromBottom !== null && event.detail.target.id === "load-older") {
      el.scrollTop = el.scrollHeight - keepFromBottom;
    }
  });
  document.addEventListener("htmx:afterSettle", function () { keepFromBottom = null; });

  // Open a room at the message asked for, else at the first unread, else at the end.
  function initialScroll() {
    var el = scroller();
    if (!el) return;
    var anchor = el.dataset.anchor && document.getElementById(el.dataset.anchor);
    var divider = document.getElementById("unread-divider");
    if (anchor) anchor.scrollIntoView({ block: "start" });
    else if (divider) divider.scrollIntoView({ block: "start" });
    else scrollToEnd();
  }

  document.addEventListener("htmx:load", function (event) {
    localizeTimes(event.detail.elt);
  });
  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes(document);
    initialScroll();
  });
})();
