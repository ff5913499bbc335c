// What every fragment pushed over the socket goes through before htmx swaps it in by id
// (htmx:oobBeforeSwap), and the short-lived ones after.
//
// - A fragment pushed twice (a retried send, a replay after reconnecting) is swapped once: one
//   whose id the page already has is skipped, unless it replaces its target in place.
// - data-replaces: the fragment takes the place of its earlier copy (typing renewed).
// - data-not-for="<user id>": sent to everyone but skipped in that user's tabs (an
//   announcement's author has no notification of their own); the viewer is body[data-viewer].
// - A push does not replace an element whose own request is still in flight (the tab that
//   clicked "Mark read"): the response brings the same state and needs its element. Pushes are
//   told from HTTP responses by htmx:wsBeforeMessage / htmx:wsAfterMessage around them.
// - data-expires-in="<seconds>": the element goes away by itself unless renewed (a renewal is
//   a new element with a timer of its own).

let pushing = 0; // > 0 while a pushed frame is being swapped
document.addEventListener("htmx:wsBeforeMessage", () => { pushing += 1; });
document.addEventListener("htmx:wsAfterMessage", () => { pushing -= 1; });

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const detail = event.detail;
  const incoming = detail.fragment?.firstElementChild;
  const notFor = incoming?.getAttribute("data-not-for");
  if (notFor && notFor === document.body.dataset.viewer) {
    detail.shouldSwap = false;
    return;
  }
  if (pushing > 0 && detail.target.querySelector(".htmx-request")) {
    detail.shouldSwap = false;
    return;
  }
  const inserting = incoming?.id && incoming.id !== detail.target.id;
  if (inserting && incoming.hasAttribute("data-replaces")) {
    document.getElementById(incoming.id)?.remove();
  }
  if (inserting && document.getElementById(incoming.id)) {
    detail.shouldSwap = false;
  }
});

document.addEventListener("htmx:oobAfterSwap", () => {
  document.querySelectorAll("[data-expires-in]:not([data-expiring])").forEach((element) => {
    element.setAttribute("data-expiring", "");
    setTimeout(() => element.remove(), parseFloat(element.dataset.expiresIn) * 1000);
  });
});
