// Copies the snippet of /embed/demo.
import { t } from "./i18n.js";

const button = document.getElementById("copy");
const said = document.getElementById("copied");
button.addEventListener("click", async () => {
  const text = document.getElementById("snippet").textContent;
  try {
    await navigator.clipboard.writeText(text);
    said.textContent = t("Copied.");
  } catch {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("snippet"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    said.textContent = t("Selected: press Ctrl+C (or ⌘C) to copy.");
  }
});
document.body.dataset.ready = "true";
