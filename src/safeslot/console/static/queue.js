// The queue's pages without a reload: re-read the page and swap its aria-live region.
// Without JavaScript a <noscript> meta refresh reloads the whole page instead.
(function () {
  "use strict";
  var region = document.querySelector("[data-live-refresh]");
  if (!region || !window.fetch || !window.DOMParser) { return; }
  var every = (parseInt(region.getAttribute("data-live-refresh"), 10) || 15) * 1000;
  function tick() {
    window.fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store", credentials: "omit" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new window.DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (fresh && fresh.innerHTML !== region.innerHTML) {
          var wasCalled = !!region.querySelector("#called");
          region.innerHTML = fresh.innerHTML;
          var called = region.querySelector("#called");
          if (called && !wasCalled) {
            // A phone in a pocket: buzz, and name the desk in the tab title (the live region reads it out).
            if (window.navigator.vibrate) { window.navigator.vibrate([300, 150, 300]); }
            document.title = called.textContent.trim();
          }
        }
        if (fresh && !fresh.hasAttribute("data-live-refresh")) { region = null; }
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { if (region) { window.setTimeout(tick, every); } });
  }
  window.setTimeout(tick, every);
})();
