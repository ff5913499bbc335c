// How the conversation looks and where its reader is in it (#scroller, holding #history and
// the live log #messages; messages are .message with data-author and a <time datetime>).
//
// - Grouping: consecutive messages from one person within GROUP_MS are grouped (one name and
//   avatar). Pushed fragments are the same for everyone and rendered one at a time, so the
//   grouping is decided here, after every swap (htmx:load, htmx:oobAfterSwap).
// - Opening: a room opens at the message asked for (#scroller[data-anchor]), else at the first
//   unread (#unread-divider), else at the end.
// - Growing: a reader at the bottom stays at the bottom when something grows (a message
//   pushed into #messages, a thumbnail or a link preview arriving, a message edited, the
//   keyboard opening); a message of the viewer's own (body[data-viewer]) is always scrolled to.
// - Loading: older messages (#load-older, swapped by htmx) load above what the reader is
//   looking at, which stays where it was; newer ones (#load-newer) load below it.

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 120;

function scroller() {
  return document.getElementById("scroller");
}

function nearBottom(element) {
  return element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToEnd() {
  const element = scroller();
  if (element) element.scrollTop = element.scrollHeight;
}

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
  // A page opened at a message or at the first unread is not read from the end (initialScroll).
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

// Open a room at the message asked for, else at the first unread, else at the end.
function initialScroll() {
  const element = scroller();
  if (!element) return;
  const anchor = element.dataset.anchor && document.getElementById(element.dataset.anchor);
  const divider = document.getElementById("unread-divider");
  if (anchor) anchor.scrollIntoView({ block: "start" });
  else if (divider) divider.scrollIntoView({ block: "start" });
  else scrollToEnd();
}

// A message pushed into the live log: a reader who was near the end follows it.
let stickToBottom = false;
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const detail = event.detail;
  if (detail.target.id !== "messages" || !detail.fragment?.firstElementChild) return;
  if (!detail.shouldSwap) return; // skipped (pushes.js)
  const element = scroller();
  stickToBottom = !!element && nearBottom(element);
});
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const log = event.detail.target;
  if (log.id !== "messages") return;
  const mine = log.lastElementChild?.dataset.author === document.body.dataset.viewer;
  if (stickToBottom || mine) scrollToEnd();
});

// Older messages load above what the reader is looking at: keep it where it was.
let keepFromBottom = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const element = scroller();
  if (element && event.detail.target.id === "load-older") {
    keepFromBottom = element.scrollHeight - element.scrollTop;
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  const element = scroller();
  if (element && keepFromBottom !== null && event.detail.target.id === "load-older") {
    element.scrollTop = element.scrollHeight - keepFromBottom;
  }
});
document.addEventListener("htmx:afterSettle", () => { keepFromBottom = null; });

document.addEventListener("htmx:load", regroup);
document.addEventListener("htmx:oobAfterSwap", regroup);
groupAll();
watchScroller();
initialScroll();
