// Names the listing being claimed, when the claim page is opened from one.
const id = new URLSearchParams(window.location.search).get("listing");
if (id && /^[0-9a-f-]{36}$/.test(id)) {
  document.getElementById("claim-call").textContent = `POST /v1/providers/${id}/claims`;
  const name = new URLSearchParams(window.location.search).get("name");
  if (name) document.getElementById("which").textContent = `Claiming “${name}”. Clinic staff keep their own listing up to date: hours, locations, clinicians, services and prices.`;
}
document.body.dataset.ready = "true";
