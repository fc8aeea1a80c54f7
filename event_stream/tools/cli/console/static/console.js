// The event console's one script: live updates. Every few seconds the page fetches its own
// URL (its filters are in it) and swaps in the fresh live part, unless the user is reading
// something there (an open record, a selection) or the tab is hidden. No reload, no build.
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live || !live.dataset.refresh) return;
  const every = Number(live.dataset.refresh);
  let busy = false;

  function reading() {
    return document.hidden ||
      live.querySelector("details[open]") !== null ||
      String(window.getSelection()).length > 0 ||
      live.contains(document.activeElement) && document.activeElement !== document.body;
  }

  async function refresh() {
    if (busy || reading()) return;
    busy = true;
    try {
      const answer = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("live");
      if (fresh && fresh.innerHTML !== live.innerHTML && !reading()) {
        live.innerHTML = fresh.innerHTML;
        live.dispatchEvent(new CustomEvent("console:updated"));
      }
    } catch (error) {
      // The console may be restarting; the next tick tries again.
    } finally {
      busy = false;
    }
  }

  window.setInterval(refresh, every);
})();
