/* Community portal: small enhancements; every page works without this file.
 * - [data-print] buttons print the page (the statement); the "use your browser's menu" hint hides.
 * - The payout change form shows only the fields of the chosen method.
 * - A month field in a browser without a month picker (a plain text box) gets a pattern and an example.
 */
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-print-hint]").forEach(function (hint) { hint.hidden = true; });

  document.querySelectorAll("input[data-month-fallback]").forEach(function (input) {
    if (input.type !== "month") {
      input.pattern = "\\d{4}-\\d{2}";
      input.placeholder = input.getAttribute("data-month-fallback");
    }
  });

  var groups = document.querySelectorAll("[data-method-group]");
  if (groups.length) {
    var radios = document.querySelectorAll('input[name="payout_method"]');
    var sync = function () {
      var chosen = document.querySelector('input[name="payout_method"]:checked');
      groups.forEach(function (group) {
        group.hidden = Boolean(chosen) && group.getAttribute("data-method-group") !== chosen.value;
      });
    };
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }
})();

/* Keep the current section's tab in view on narrow screens (the tab list scrolls sideways). */
(function () {
  "use strict";
  var current = document.querySelector(".portal-tabs a[aria-current]");
  if (!current) { return; }
  var list = current.closest("ul");
  if (list && list.scrollWidth > list.clientWidth) {
    list.scrollLeft = Math.max(0, current.offsetLeft - list.clientWidth / 2 + current.offsetWidth / 2);
  }
})();
