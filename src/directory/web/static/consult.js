// "Request a free consultation": the form of a listing's page (and, later, of the embed).
// No account. What the person types goes to the API once, sealed there; nothing is kept here.
import { h } from "./common.js";
import { t, lang } from "./i18n.js";

const WAYS = [["phone", t("By phone")], ["email", t("By email")], ["either", t("Either")]];
const LABELS = {
  name: t("Your name"), phone: t("Phone"), email: t("Email"), preferred_contact: t("How should the clinic contact you?"),
  preferred_time: t("Best time to reach you (optional)"), message: t("A short note (optional)"), consent: t("Consent"),
};

function field(name, control, hint) {
  const error = h("p", { class: "error", id: `consult-${name}-error`, hidden: true });
  control.setAttribute("aria-describedby", [hint ? `consult-${name}-hint` : null, `consult-${name}-error`].filter(Boolean).join(" "));
  return h("div", { class: "field", "data-field": name },
    h("label", { for: `consult-${name}` }, LABELS[name]),
    hint ? h("p", { class: "hint", id: `consult-${name}-hint` }, hint) : null,
    control, error);
}

/** The form for listing ``p`` (a public listing document); null when the clinic takes no requests. */
export function consultationForm(p, { apiBase = "", key = null } = {}) {
  if (!p.accepts_consultation_requests) return null;
  const suffix = key ? `?key=${encodeURIComponent(key)}` : "";
  const base = `${apiBase}/v1/providers/${encodeURIComponent(p.id)}`;
  let token = null;
  const loadToken = async () => {
    try {
      const response = await fetch(`${base}/consultation-form${suffix}`, { headers: { Accept: "application/json", "Accept-Language": lang } });
      const body = await response.json();
      token = body.accepting ? body.form_token : null;
      if (!body.accepting) section.replaceChildren(h("p", {}, t("This clinic does not take requests here at the moment: please call them or visit their website.")));
    } catch {
      token = null;
    }
  };

  const input = (name, attributes) => h("input", { id: `consult-${name}`, name, ...attributes });
  const ways = WAYS.map(([value, label]) =>
    h("label", { class: "option" }, h("input", { type: "radio", name: "preferred_contact", value, checked: value === "either" }), ` ${label}`));
  const status = h("p", { role: "status", class: "consult-status", "aria-live": "polite" });
  const form = h("form", { class: "consult", novalidate: true },
    h("p", { class: "hint" }, t("{name} will contact you about a free first consultation. You need no account.", { name: p.name })),
    field("name", input("name", { autocomplete: "name", required: true, maxlength: "100" })),
    field("phone", input("phone", { type: "tel", autocomplete: "tel", maxlength: "20" }), t("A phone number, an email address, or both.")),
    field("email", input("email", { type: "email", autocomplete: "email", maxlength: "254" })),
    h("fieldset", { class: "field", "data-field": "preferred_contact" }, h("legend", {}, LABELS.preferred_contact), h("div", { class: "options" }, ways),
      h("p", { class: "error", id: "consult-preferred_contact-error", hidden: true })),
    field("preferred_time", input("preferred_time", { maxlength: "100", placeholder: t("for example, weekday mornings") })),
    field("message", h("textarea", { id: "consult-message", name: "message", rows: "3", maxlength: "500" }),
      t("Please do not write anything about your health or treatment here: the clinic will ask what it needs when it calls.")),
    // A field people never see; software that fills every field fills it, and its request is dropped.
    h("div", { class: "trap", "aria-hidden": "true" },
      h("label", { for: "consult-website" }, t("Leave this empty")), h("input", { id: "consult-website", name: "website", tabindex: "-1", autocomplete: "off" })),
    h("div", { class: "field", "data-field": "consent" },
      h("label", { class: "option" }, h("input", { type: "checkbox", id: "consult-consent", name: "consent", required: true, "aria-describedby": "consult-consent-error" }),
        " " + t("I agree that the directory sends this request to {name}. It is deleted after 90 days, or at once if I withdraw it.", { name: p.name })),
      h("p", { class: "error", id: "consult-consent-error", hidden: true })),
    h("button", { type: "submit", class: "primary" }, t("Send the request")),
    status,
  );

  // A field's message goes as soon as the field is changed.
  form.addEventListener("input", (event) => {
    const name = event.target.name === "preferred_contact" ? "preferred_contact" : event.target.name;
    const error = form.querySelector(`#consult-${name}-error`);
    if (error) { error.hidden = true; error.textContent = ""; event.target.removeAttribute("aria-invalid"); }
    if (name === "email") form.querySelector("#consult-phone-error").hidden = true;
  });
  const show = (name, reason) => {
    const error = form.querySelector(`#consult-${name}-error`);
    if (!error) return false;
    error.textContent = reason;
    error.hidden = false;
    form.querySelector(`#consult-${name}`)?.setAttribute("aria-invalid", "true");
    return true;
  };
  const clear = () => {
    for (const error of form.querySelectorAll(".error")) { error.hidden = true; error.textContent = ""; }
    for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    status.textContent = "";
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    const value = (name) => form.elements[name].value.trim();
    const body = {
      name: value("name"), phone: value("phone") || null, email: value("email") || null,
      preferred_contact: form.querySelector('input[name="preferred_contact"]:checked').value,
      preferred_time: value("preferred_time") || null, message: value("message") || null,
      consent: form.elements.consent.checked, website: form.elements.website.value || null, form_token: token,
    };
    let problems = 0;
    if (!body.name) problems += show("name", t("Tell the clinic how to address you."));
    if (!body.phone && !body.email) problems += show("phone", t("Give a phone number or an email address, so that the clinic can reach you."));
    if (!body.consent) problems += show("consent", t("Tick the box to send the request to the clinic."));
    if (problems) {
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    if (!token) await loadToken();
    body.form_token = token;
    let response;
    try {
      response = await fetch(`${base}/consultation-requests${suffix}`, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": lang }, body: JSON.stringify(body),
      });
    } catch {
      status.textContent = t("The directory could not be reached. Check your connection and try again.");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (response.status === 202) {
      const values = { name: p.name, reference: answer.reference };
      const said = {
        phone: () => t("{name} will contact you by phone. Your reference: {reference}.", values),
        email: () => t("{name} will contact you by email. Your reference: {reference}.", values),
        either: () => t("{name} will contact you by phone or email. Your reference: {reference}.", values),
      }[body.preferred_contact]();
      section.replaceChildren(
        h("h2", { id: "consult-heading", tabindex: "-1" }, t("Your request was sent")),
        h("p", {}, said),
        answer.confirmation_mail ? h("p", {}, t("We also mailed you a confirmation, with a link to withdraw the request if you change your mind.")) : null,
      );
      section.querySelector("#consult-heading").focus();
      return;
    }
    if (response.status === 422) {
      let named = 0;
      for (const error of answer.errors || []) {
        if (error.field === "form_token") { await loadToken(); status.textContent = t("Please check the form and send it again."); named += 1; }
        else if (show(error.field, error.reason)) named += 1;
      }
      if (!named) status.textContent = (answer.errors && answer.errors[0] && answer.errors[0].reason) || answer.detail || t("Please check the form.");
      form.querySelector('[aria-invalid="true"]')?.focus();
    } else if (response.status === 429) {
      status.textContent = t("Too many requests were sent from here in the last hour. Please try again later, or call the clinic.");
    } else if (response.status === 404) {
      status.textContent = t("This clinic does not take requests here any more: please call them or visit their website.");
    } else {
      status.textContent = answer.detail || t("The request could not be sent. Please try again later.");
    }
  });

  const section = h("section", { class: "part consult-part", "aria-labelledby": "consult-heading" },
    h("h2", { id: "consult-heading" }, t("Request a free consultation")), form);
  loadToken();
  return section;
}
