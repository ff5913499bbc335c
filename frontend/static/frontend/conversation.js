// How the conversation looks as it grows: consecutive messages from one person within
// GROUP_MS are grouped (one name and avatar), and a reader at the bottom stays at the bottom
// when something above grows (a thumbnail or a link preview arriving, a message edited).
//
// Pushed fragments are the same for everyone and rendered one at a time, so the grouping is
// decided here, from each message's author and time.

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 120;

function group(list) {
  let previous = null;
  for (const message of list.querySelectorAll(":scope > .message")) {
    const when = Date.parse(message.querySelector("time")?.getAttribute("datetime") ?? "");
    const continued =
      previous !== null &&
      !message.classList.contains("is-deleted") &&
      previous.author === message.dataset.author &&
      when - previous.when < GROUP_MS;
    message.classList.toggle("is-continued", continued);
    previous = { author: message.dataset.author, when };
  }
}

function groupAll() {
  // The history and the live log read as one conversation.
  const history = document.getElementById("history");
  const live = document.getElementById("messages");
  if (history) group(history);
  if (live) {
    group(live);
    const lastOld = history?.querySelector(":scope > .message:last-of-type");
    const firstNew = live.querySelector(":scope > .message");
    if (lastOld && firstNew && !firstNew.classList.contains("is-continued")) {
      const a = Date.parse(lastOld.querySelector("time")?.getAttribute("datetime") ?? "");
      const b = Date.parse(firstNew.querySelector("time")?.getAttribute("datetime") ?? "");
      firstNew.classList.toggle(
        "is-continued",
        lastOld.dataset.author === firstNew.dataset.author && b - a < GROUP_MS,
      );
    }
  }
}

// Whether the reader is at the end. Only the reader moving up leaves it: keeping the end in
// view moves down, and its scroll event may arrive after the content grew again.
let atBottom = true;
function watchScroller() {
  const scroller = document.getElementById("scroller");
  if (!scroller) return;
  let lastTop = scroller.scrollTop;
  // A page opened at a message or at the first unread is not read from the end (app.js).
  atBottom = !scroller.dataset.anchor && !document.getElementById("unread-divider");
  scroller.addEventListener(
    "scroll",
    () => {
      const top = scroller.scrollTop;
      if (scroller.scrollHeight - top - scroller.clientHeight < NEAR_BOTTOM_PX) atBottom = true;
      else if (top < lastTop) atBottom = false;
      lastTop = top;
    },
    { passive: true },
  );
  // What is inside the scroller grew or shrank, or the scroller did (the keyboard opened):
  // keep a reader who was at the end there.
  // Newer history loading below the reader is read from where they are, not jumped over.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id === "load-newer") atBottom = false;
  });
  const resized = new ResizeObserver(() => {
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  });
  resized.observe(scroller);
  for (const child of scroller.children) resized.observe(child);
}

// Regrouping changes the height of messages, perhaps above the one being read: keep that one
// where it is on screen.
function keepingPlace(change) {
  const scroller = document.getElementById("scroller");
  if (!scroller || atBottom) {
    change();
    return;
  }
  const top = scroller.getBoundingClientRect().top;
  const anchor = Array.from(scroller.querySelectorAll(".message")).find(
    (message) => message.getBoundingClientRect().bottom > top,
  );
  const before = anchor?.getBoundingClientRect().top;
  change();
  if (anchor?.isConnected) scroller.scrollTop += anchor.getBoundingClientRect().top - before;
}

function regroup() {
  keepingPlace(groupAll);
}

document.addEventListener("htmx:load", regroup);
document.addEventListener("htmx:oobAfterSwap", regroup);
groupAll();
watchScroller();
