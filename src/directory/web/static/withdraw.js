// Withdraw a consultation request with the link of the confirmation mail (request id and token in the query).
import { t } from "./i18n.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("withdraw");
const result = document.getElementById("result");
const request = params.get("request") || "";
const token = params.get("token") || "";

if (!/^[0-9a-f-]{36}$/.test(request) || token.length < 10) {
  form.hidden = true;
  result.textContent = t("This link is not complete. Open the link from your confirmation mail again.");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  form.querySelector("button").disabled = true;
  let response;
  try {
    response = await fetch(`/v1/consultation-requests/${request}/withdrawal`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }),
    });
  } catch {
    result.textContent = t("We could not reach the directory. Check your connection and try again.");
    form.querySelector("button").disabled = false;
    return;
  }
  form.hidden = true;
  result.textContent = response.ok
    ? t("Your request was withdrawn and deleted.")
    : response.status === 404
      ? t("There is no such request any more: it was already withdrawn, or deleted after its time.")
      : t("Something went wrong. Please try again later.");
});
document.body.dataset.ready = "true";
