// The report's "Print or save as PDF" button: shown only where this module runs, it opens the print dialogue.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
