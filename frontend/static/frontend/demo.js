// The public demo (DEMO_MODE): when `manage.py demo_reset` returns the site to its seed data,
// every open page receives a notice (demo/templates/demo/guest.html#reset-push) in its flash
// region. What the page shows may be gone, so it says so and reloads a moment later.

const RELOAD_AFTER_MS = 1500;  // long enough to read the notice

const flash = document.getElementById("flash");
if (flash) {
  const watching = new MutationObserver(() => {
    if (flash.querySelector("[data-reload]")) {
      watching.disconnect();
      setTimeout(() => location.reload(), RELOAD_AFTER_MS);
    }
  });
  watching.observe(flash, { childList: true, subtree: true });
}
