// The public demo (DEMO_MODE; base.html loads this module only then): when
// `manage.py demo_reset` returns the site to its seed data, every open page receives a notice
// (demo/templates/demo/guest.html#reset-push, a [data-reload] swapped into #flash). What the
// page shows may be gone, so it says so and reloads a moment later.

const RELOAD_AFTER_MS = 1500; // long enough to read the notice

let reloading = false;
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const region = event.detail.target;
  if (reloading || region.id !== "flash" || !region.querySelector("[data-reload]")) return;
  reloading = true;
  setTimeout(() => location.reload(), RELOAD_AFTER_MS);
});
