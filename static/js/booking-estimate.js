/* Live price estimate on the "Who is travelling?" form (progressive enhancement).
 *
 * The form carries data-adult-price / data-child-price (minor units) and data-sample, the
 * adult price as the server formats it ("S/ 350.00"): its currency symbol and number of
 * decimals are reused, so the estimate looks like every other amount on the site. The
 * server computes the real total when it holds the seats.
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-estimate]");
  if (!form) return;
  var output = form.querySelector("[data-estimate-output]");
  var adults = form.querySelector("input[name='adults'][type='number']");
  var children = form.querySelector("input[name='children'][type='number']");
  var adultPrice = parseInt(form.getAttribute("data-adult-price"), 10) || 0;
  var childPrice = parseInt(form.getAttribute("data-child-price"), 10) || 0;
  var sample = form.getAttribute("data-sample") || "";
  var space = sample.lastIndexOf(" ");
  var symbol = space > 0 ? sample.slice(0, space) : "";
  var dot = sample.lastIndexOf(".");
  var exponent = dot > space ? sample.length - dot - 1 : 0;
  if (!output || !adults) return;

  function format(minor) {
    var unit = Math.pow(10, exponent);
    var major = Math.floor(minor / unit);
    var rest = String(minor % unit);
    while (rest.length < exponent) rest = "0" + rest;
    var grouped = String(major).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (symbol ? symbol + " " : "") + grouped + (exponent ? "." + rest : "");
  }

  function count(input) {
    if (!input) return 0;
    var n = parseInt(input.value, 10);
    return isNaN(n) || n < 0 ? NaN : n;
  }

  function update() {
    var a = count(adults);
    var c = count(children);
    output.textContent = isNaN(a) || isNaN(c) || a < 1 ? "—" : format(a * adultPrice + c * childPrice);
  }

  form.addEventListener("input", update);
  update();
})();
