// Times in the reader's own time zone and language: every <time datetime> (data-format="date"
// for a date, else the time of day), on load and in whatever htmx swaps in (htmx:load fires
// for HTTP responses and socket pushes alike).

function localizeTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((element) => {
    const when = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) return;
    element.textContent = element.dataset.format === "date"
      ? when.toLocaleDateString([], { year: "numeric", month: "long", day: "numeric" })
      : when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    element.title = when.toLocaleString();
  });
}

document.addEventListener("htmx:load", (event) => localizeTimes(event.detail.elt));
localizeTimes(document);
