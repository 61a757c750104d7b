// A listing's page: everything the public may see of one provider, from GET /v1/providers/{slug}.
import { consultationForm } from "./consult.js";
import { api, h, web, price, phone, address, language, date, verifiedBadge, chips, PAYMENT, ROUTES, ApiError } from "./common.js";

// Said of a listing without the badge, so that its absence is not read as a verdict nor missed.
const UNVERIFIED = {
  unverified: "Not verified: no organization NPI given",
  pending: "NPI being checked against the national registry",
  failed: "Not verified: the NPI did not match the national registry",
};

const previewing = Boolean(document.querySelector('meta[name="directory-listing-source"]')?.content);

const REPORT_KINDS = [
  ["closed_permanently", "It has closed for good"],
  ["wrong_phone", "The phone number is wrong"],
  ["wrong_address", "The address is wrong"],
  ["service_not_offered", "It does not offer a listed service"],
  ["other", "Something else"],
];

/** "Report a problem": anonymous, to the moderators and the clinic; works with the keyboard alone. */
function reportForm(p) {
  const status = h("p", { role: "status", class: "report-status" });
  const details = h("textarea", { id: "report-details", name: "details", rows: "3", maxlength: "1000", "aria-describedby": "report-hint" });
  const choices = REPORT_KINDS.map(([value, label], index) =>
    h("label", {}, h("input", { type: "radio", name: "kind", value, required: index === 0 ? "" : null }), ` ${label}`));
  const form = h("form", { class: "report" },
    h("fieldset", {}, h("legend", {}, "What is wrong?"), h("div", { class: "options" }, choices)),
    h("div", { class: "field" },
      h("label", { for: "report-details" }, "In a few words (needed for \"Something else\")"),
      h("p", { class: "hint", id: "report-hint" }, "Do not write your name or anything about your health: the report is anonymous."),
      details),
    h("button", { type: "submit", class: "secondary" }, "Send the report"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const kind = form.querySelector('input[name="kind"]:checked');
    if (!kind) {
      status.textContent = "Choose what is wrong.";
      return;
    }
    try {
      const response = await fetch(`/v1/providers/${encodeURIComponent(p.id)}/reports`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ kind: kind.value, details: details.value.trim() || null }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        form.replaceChildren(h("p", { role: "status" }, "Thank you: the directory's moderators and the clinic will look at it."));
      } else if (response.status === 429) {
        status.textContent = "Too many reports were sent from here in the last hour. Please try again later.";
      } else {
        status.textContent = (body.errors && body.errors[0] && body.errors[0].reason) || body.detail || "The report could not be sent.";
      }
    } catch {
      status.textContent = "The directory could not be reached. Check your connection and try again.";
    }
  });
  return h("details", { class: "part report-problem" }, h("summary", {}, "Report a problem with this listing"), form);
}

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const slug = document.querySelector('meta[name="directory-listing"]').content;
// The portal's preview reads the listing as its owner sees it (a draft too), from its own address.
const source = document.querySelector('meta[name="directory-listing-source"]')?.content || `/v1/providers/${encodeURIComponent(slug)}`;
const main = document.getElementById("listing");
const status = document.getElementById("status");

/** The day (mon..sun) and minutes since midnight now, in a time zone. */
function nowIn(timeZone) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date());
    const get = (type) => parts.find((p) => p.type === type).value;
    return { day: get("weekday").toLowerCase().slice(0, 3), minutes: Number(get("hour")) * 60 + Number(get("minute")) };
  } catch {
    return null;
  }
}

const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function openNow(location) {
  const now = location.timezone ? nowIn(location.timezone) : null;
  if (!now || !location.hours || !location.hours.length) return null;
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const yesterday = days[(days.indexOf(now.day) + 6) % 7];
  return location.hours.some((slot) => {
    const opens = minutes(slot.opens);
    const closes = minutes(slot.closes);
    if (opens < closes) return slot.day === now.day && opens <= now.minutes && now.minutes < closes;
    // overnight: from opening until midnight, then the next day until it closes
    return (slot.day === now.day && now.minutes >= opens) || (slot.day === yesterday && now.minutes < closes);
  });
}

function clock(hhmm) {
  const [hour, minute] = hhmm.split(":").map(Number);
  const suffix = hour >= 12 && hour < 24 ? "pm" : "am";
  const twelve = hour % 12 === 0 ? 12 : hour % 12;
  return minute ? `${twelve}:${String(minute).padStart(2, "0")} ${suffix}` : `${twelve} ${suffix}`;
}

function zoneName(timeZone) {
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "long" }).formatToParts(new Date()).find((p) => p.type === "timeZoneName");
    return part ? part.value : timeZone;
  } catch {
    return timeZone;
  }
}

function hoursTable(location, index) {
  if (!location.hours || !location.hours.length) return h("p", {}, "Hours: call to ask.");
  const today = location.timezone ? nowIn(location.timezone) : null;
  const caption = `Weekly hours${location.timezone ? ` (${zoneName(location.timezone)})` : ""}`;
  return h("table", { class: "hours", id: `hours-${index}` },
    h("caption", {}, caption),
    h("tbody", {},
      DAYS.map(([code, name]) => {
        const slots = location.hours.filter((slot) => slot.day === code);
        const text = slots.length ? slots.map((s) => `${clock(s.opens)} – ${clock(s.closes)}${s.closes < s.opens ? " (next day)" : ""}`).join(", ") : "Closed";
        return h("tr", { class: today && today.day === code ? "today" : null }, h("th", { scope: "row" }, name, today && today.day === code ? h("span", { class: "visually-hidden" }, " (today)") : null), h("td", {}, text));
      }),
    ),
  );
}

function section(title, ...content) {
  const body = content.flat().filter(Boolean);
  if (!body.length) return null;
  return h("section", { class: "part" }, h("h2", {}, title), ...body);
}

function definition(pairs) {
  const rows = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length));
  if (!rows.length) return null;
  return h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

// When the clinic itself last said the listing is right (an owner saved it or pressed "Still correct").
function confirmedLine(confirmation) {
  if (!confirmation || !confirmation.confirmed_at) return "The clinic has not confirmed these details yet.";
  const on = date(confirmation.confirmed_at);
  return confirmation.unconfirmed
    ? `Details last confirmed by the clinic on ${on}: not in the last 6 months, so check with the clinic before you go.`
    : `Details confirmed by the clinic on ${on}.`;
}

const ACCESSIBILITY = {
  step_free_entrance: "Step-free entrance",
  accessible_restroom: "Accessible restroom",
  elevator: "Elevator",
  accessible_parking: "Accessible parking",
  sign_language_interpreter: "Sign language interpreter on request",
  service_animals_welcome: "Service animals welcome",
  hearing_loop: "Hearing loop",
  large_print: "Large-print materials",
  quiet_room: "Quiet, low-stimulation room",
  near_public_transit: "Near public transit",
};

function render(p) {
  document.title = `${p.name} – Infusion provider directory`;
  const checked = p.verification && p.verification.last_verified_at;
  const tel = p.phone;
  const locations = p.locations.map((location, index) => {
    const open = openNow(location);
    return h("li", { class: "location" },
      h("h3", {}, location.name || `${location.city || "Location"}${location.state ? `, ${location.state}` : ""}`),
      h("p", { class: "address" }, address(location), " ", open === true ? h("span", { class: "open" }, "Open now") : open === false ? h("span", { class: "closed" }, "Closed now") : null),
      location.phone ? h("p", {}, h("a", { href: `tel:${location.phone}` }, phone(location.phone))) : null,
      hoursTable(location, index),
      (location.accessibility_features || []).length
        ? h("div", { class: "access" }, h("strong", {}, "Accessibility"), h("ul", { class: "chips" }, location.accessibility_features.map((f) => h("li", {}, ACCESSIBILITY[f] || f.replace(/_/g, " ")))))
        : null,
      location.accessibility ? h("p", {}, h("strong", {}, (location.accessibility_features || []).length ? "The clinic says: " : "Accessibility: "), location.accessibility) : null,
      location.rems_certified
        ? h("p", {}, h("strong", {}, "Spravato: "), `certified under the REMS program${location.rems_certified_on ? ` since ${date(location.rems_certified_on)}` : ""}, so esketamine can be given here.`)
        : null,
    );
  });
  const clinicians = p.clinicians.map((c) =>
    h("li", { class: "clinician" },
      h("h3", {}, [c.first_name, c.last_name].filter(Boolean).join(" "), c.credential ? `, ${c.credential}` : ""),
      definition([
        ["Role", c.role],
        ["Specialty", c.specialty ? c.specialty.replace(/_/g, " ") : null],
        ["Licenses", (c.licenses || []).map((l) => `${l.state} ${l.number}${l.expires_on ? ` (until ${date(l.expires_on)})` : ""}`).join("; ")],
        ["Board certifications", (c.board_certifications || []).join("; ")],
        ["NPI", c.npi],
        ["Registry check", c.verification_status === "verified" ? "Confirmed in the NPI registry" : null],
      ]),
    ),
  );
  const services = p.services.map((s) => {
    const cost = price({ min: s.price_min, max: s.price_max });
    return h("li", {}, s.name, cost ? ` · ${cost}` : "", s.session_minutes ? ` · ${s.session_minutes} min` : "");
  });
  // replaceChildren would write a null as the text "null": parts a listing lacks are left out first.
  main.replaceChildren(...[
    h("p", {}, h("a", { href: `/${sessionStorage.getItem("directory.search") || ""}` }, "← Back to the search")),
    h("h1", { tabindex: "-1", id: "name" }, p.name),
    h("p", { class: "meta" },
      p.verification && p.verification.verified ? h("a", { href: "/how-we-check", class: "badge-link", title: "How we check listings" }, verifiedBadge(true, checked)) : null,
      p.verification && p.verification.stale ? h("span", { class: "badge stale" }, "Check overdue") : null,
      p.verification && !p.verification.verified ? h("a", { class: "badge muted", href: "/how-we-check" }, UNVERIFIED[p.verification.status] || UNVERIFIED.unverified) : null,
      p.accepting_new_patients ? h("span", { class: "badge" }, "Accepting new patients") : p.accepting_new_patients === false ? h("span", { class: "badge muted" }, "Not accepting new patients") : null,
      p.telehealth ? h("span", { class: "badge" }, `Telehealth${p.telehealth_states.length ? ` in ${p.telehealth_states.join(", ")}` : ""}`) : null,
    ),
    p.description ? h("p", { class: "lead" }, p.description) : null,
    h("p", { class: "contact" },
      tel ? h("a", { href: `tel:${tel}` }, phone(tel)) : null,
      web(p.website) ? h("a", { href: web(p.website), rel: "noopener nofollow", target: "_blank" }, "Website", h("span", { class: "visually-hidden" }, " (opens in a new tab)")) : null,
      p.email ? h("a", { href: `mailto:${p.email}` }, p.email) : null,
    ),
    section("Conditions treated", chips(p.conditions, "Conditions treated")),
    section("Services", services.length ? h("ul", { class: "plain" }, services) : null, p.routes.length ? h("p", {}, h("strong", {}, "Routes: "), p.routes.map((r) => ROUTES[r] || r).join(", ")) : null),
    section(`Location${p.locations.length === 1 ? "" : "s"}`, h("ul", { class: "plain locations" }, locations)),
    section("Clinicians", clinicians.length ? h("ul", { class: "plain clinicians" }, clinicians) : h("p", {}, "No clinicians listed yet.")),
    section("Payment and insurance", definition([
      ["Price per session", price(p.price)],
      ["Payment", p.payment_options.map((o) => PAYMENT[o] || o).join(", ")],
      ["Insurance accepted", p.insurance_carriers.join(", ")],
      ["Languages", p.languages.map(language).join(", ")],
      ["REMS-certified (Spravato)", p.rems_certified ? "Yes" : null],
      ["Organization NPI", p.npi],
    ])),
    previewing ? null : consultationForm(p),
    previewing ? null : reportForm(p),
    h("p", { class: "claim" }, "Is this your clinic? ", h("a", { href: `/portal/claim/${encodeURIComponent(p.slug)}` }, "Claim and update this listing"), "."),
    h("div", { class: "hint freshness" },
      h("p", {}, confirmedLine(p.confirmation)),
      checked ? h("p", {}, `NPI checked against the national registry on ${date(checked)}${p.verification.stale ? " (a new check is overdue)" : ""}.`) : null,
      h("p", {}, `Listing updated ${date(p.updated_at)}. `, h("a", { href: "/how-we-check" }, "How we check listings")),
    ),
  ].filter(Boolean));
  document.getElementById("name").focus({ preventScroll: true });
}

(async function start() {
  try {
    render(await api(source));
  } catch (error) {
    document.title = "Listing not found – Infusion provider directory";
    const missing = error instanceof ApiError && error.status === 404;
    main.replaceChildren(
      h("h1", {}, missing ? "This listing is not in the directory" : "The listing could not be loaded"),
      h("p", { role: "alert" }, missing ? "It may have closed or moved. Search for providers near you instead." : error.message),
      h("p", {}, h("a", { href: "/" }, "Search the directory")),
    );
  }
  status.remove?.();
  document.body.dataset.ready = "true";
})();
