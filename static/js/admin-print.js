// Manifest pages: a "Print" button (hidden until this script shows it, so it never appears without JS).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
