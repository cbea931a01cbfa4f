/* Seat-hold countdown on the traveller details page (progressive enhancement).
 *
 * Markup (rendered by templates/bookings/booking_details.html):
 *   [data-countdown] with data-expires and data-now (Unix seconds, both from the server's
 *   clock, so a wrong clock on the traveller's device does not matter), data-left
 *   ("%(time)s left", translated) and data-say-5 / data-say-1 / data-say-expired (what the
 *   polite live region announces). Children: [data-countdown-clock], [data-countdown-live],
 *   [data-countdown-active], [data-countdown-expired]; the form's [data-countdown-submit].
 * Without JavaScript the server-rendered "14 minutes left" stays, and the server refuses an
 * expired hold anyway.
 */
(function () {
  "use strict";

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  function start(root) {
    var expires = parseInt(root.getAttribute("data-expires"), 10);
    var now = parseInt(root.getAttribute("data-now"), 10);
    if (isNaN(expires) || isNaN(now)) return;
    var deadline = performance.now() + (expires - now) * 1000;
    var clock = root.querySelector("[data-countdown-clock]");
    var live = root.querySelector("[data-countdown-live]");
    var active = root.querySelector("[data-countdown-active]");
    var expired = root.querySelector("[data-countdown-expired]");
    var template = root.getAttribute("data-left") || "%(time)s";
    var submits = document.querySelectorAll("[data-countdown-submit]");
    var announced = {};
    var timer = null;

    function say(key) {
      var text = root.getAttribute("data-say-" + key);
      if (!live || !text || announced[key]) return;
      announced[key] = true;
      live.textContent = text;
    }

    function tick() {
      var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
      if (clock) clock.textContent = template.replace("%(time)s", format(left));
      // Announce when a threshold is crossed while the page is open (not on load).
      if (left <= 300 && left > 60 && started.over5) say("5");
      if (left <= 60 && left > 0 && started.over1) say("1");
      if (left <= 300) root.classList.add("hold--soon");
      if (left === 0) {
        window.clearInterval(timer);
        root.classList.add("hold--expired");
        if (active) active.hidden = true;
        if (expired) expired.hidden = false;
        for (var i = 0; i < submits.length; i++) {
          submits[i].disabled = true;
          submits[i].setAttribute("aria-disabled", "true");
        }
        say("expired");
      }
    }

    var initial = Math.ceil((deadline - performance.now()) / 1000);
    var started = { over5: initial > 300, over1: initial > 60 };
    tick();
    timer = window.setInterval(tick, 1000);
  }

  var roots = document.querySelectorAll("[data-countdown]");
  for (var i = 0; i < roots.length; i++) start(roots[i]);
})();
