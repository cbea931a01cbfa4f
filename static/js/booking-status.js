/* The success page's status panel is swapped by htmx (outerHTML) every 2 s while the
 * payment waits for its confirmation. A swapped element is not a dependable live region,
 * so this script reads the new panel after each swap and, when the status changed, puts its
 * text into the page's stable polite live region ([data-status-live]).
 */
(function () {
  "use strict";

  var live = document.querySelector("[data-status-live]");
  var panel = document.getElementById("booking-status");
  if (!live || !panel) return;
  var last = panel.getAttribute("data-status");

  document.body.addEventListener("htmx:afterSettle", function () {
    var current = document.getElementById("booking-status");
    if (!current) return;
    var status = current.getAttribute("data-status");
    if (status === last) return;
    last = status;
    var text = current.querySelector("[data-status-text]");
    if (text) live.textContent = text.textContent.replace(/\s+/g, " ").trim();
  });
})();
