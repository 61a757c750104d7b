// Names the listing being claimed, when the claim page is opened from one, and links to its claim in the portal.
import { t } from "./i18n.js";

const params = new URLSearchParams(window.location.search);
const id = params.get("listing");
if (id && /^[0-9a-z-]{1,120}$/i.test(id)) {
  document.getElementById("claim-link").href = `/portal/claim/${encodeURIComponent(id)}`;
  const name = params.get("name");
  if (name) document.getElementById("which").textContent = t("Is {name} your clinic? Claim its listing to keep it up to date: hours, locations, clinicians, services and prices.", { name });
}
document.body.dataset.ready = "true";
