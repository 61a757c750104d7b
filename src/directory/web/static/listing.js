// A listing's page: everything the public may see of one provider, from GET /v1/providers/{slug}.
import { consultationForm } from "./consult.js";
import { api, h, web, price, phone, address, language, date, verifiedBadge, chips, named, taxonomyNames, PAYMENT, ROUTES, ApiError } from "./common.js";
import { t, lang, locale, here } from "./i18n.js";

// Said of a listing without the badge, so that its absence is not read as a verdict nor missed.
const UNVERIFIED = {
  unverified: t("Not verified: no organization NPI given"),
  pending: t("NPI being checked against the national registry"),
  failed: t("Not verified: the NPI did not match the national registry"),
};

const previewing = Boolean(document.querySelector('meta[name="directory-listing-source"]')?.content);

const REPORT_KINDS = [
  ["closed_permanently", t("It has closed for good")],
  ["wrong_phone", t("The phone number is wrong")],
  ["wrong_address", t("The address is wrong")],
  ["service_not_offered", t("It does not offer a listed service")],
  ["other", t("Something else")],
];

/** "Report a problem": anonymous, to the moderators and the clinic; works with the keyboard alone. */
function reportForm(p) {
  const status = h("p", { role: "status", class: "report-status" });
  const details = h("textarea", { id: "report-details", name: "details", rows: "3", maxlength: "1000", "aria-describedby": "report-hint" });
  const choices = REPORT_KINDS.map(([value, label], index) =>
    h("label", {}, h("input", { type: "radio", name: "kind", value, required: index === 0 ? "" : null }), ` ${label}`));
  const form = h("form", { class: "report" },
    h("fieldset", {}, h("legend", {}, t("What is wrong?")), h("div", { class: "options" }, choices)),
    h("div", { class: "field" },
      h("label", { for: "report-details" }, t("In a few words (needed for “Something else”)")),
      h("p", { class: "hint", id: "report-hint" }, t("Do not write your name or anything about your health: the report is anonymous.")),
      details),
    h("button", { type: "submit", class: "secondary" }, t("Send the report")),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const kind = form.querySelector('input[name="kind"]:checked');
    if (!kind) {
      status.textContent = t("Choose what is wrong.");
      return;
    }
    try {
      const response = await fetch(`/v1/providers/${encodeURIComponent(p.id)}/reports`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": lang },
        body: JSON.stringify({ kind: kind.value, details: details.value.trim() || null }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        form.replaceChildren(h("p", { role: "status" }, t("Thank you: the directory's moderators and the clinic will look at it.")));
      } else if (response.status === 429) {
        status.textContent = t("Too many reports were sent from here in the last hour. Please try again later.");
      } else {
        status.textContent = (body.errors && body.errors[0] && body.errors[0].reason) || body.detail || t("The report could not be sent.");
      }
    } catch {
      status.textContent = t("The directory could not be reached. Check your connection and try again.");
    }
  });
  return h("details", { class: "part report-problem" }, h("summary", {}, t("Report a problem with this listing")), form);
}

// The days' names in the page's language (3 January 2000 was a Monday), capitalised as a table's rows.
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((code, i) => {
  const name = new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" }).format(Date.UTC(2000, 0, 3 + i));
  return [code, name.charAt(0).toLocaleUpperCase(locale) + name.slice(1)];
});
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

/** A time of day the page's way: "9:00 AM" in English, "9:00 a. m." in Spanish (CLDR, through Intl). */
function clock(hhmm) {
  const [hour, minute] = hhmm.split(":").map(Number);
  return new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit", timeZone: "UTC" }).format(Date.UTC(2000, 0, 3, hour, minute));
}

function zoneName(timeZone) {
  try {
    const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "long" }).formatToParts(new Date()).find((p) => p.type === "timeZoneName");
    return part ? part.value : timeZone;
  } catch {
    return timeZone;
  }
}

function hoursTable(location, index) {
  if (!location.hours || !location.hours.length) return h("p", {}, t("Hours: call to ask."));
  const today = location.timezone ? nowIn(location.timezone) : null;
  const caption = location.timezone ? t("Weekly hours ({zone})", { zone: zoneName(location.timezone) }) : t("Weekly hours");
  return h("table", { class: "hours", id: `hours-${index}` },
    h("caption", {}, caption),
    h("tbody", {},
      DAYS.map(([code, name]) => {
        const slots = location.hours.filter((slot) => slot.day === code);
        const span = (s) => `${clock(s.opens)} – ${clock(s.closes)}` + (s.closes < s.opens ? t(" (next day)") : "");
        const text = slots.length ? slots.map(span).join(", ") : t("Closed");
        return h("tr", { class: today && today.day === code ? "today" : null }, h("th", { scope: "row" }, name, today && today.day === code ? h("span", { class: "visually-hidden" }, t(" (today)")) : null), h("td", {}, text));
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
  if (!confirmation || !confirmation.confirmed_at) return t("The clinic has not confirmed these details yet.");
  const on = date(confirmation.confirmed_at);
  return confirmation.unconfirmed
    ? t("Details last confirmed by the clinic on {date}: not in the last 6 months, so check with the clinic before you go.", { date: on })
    : t("Details confirmed by the clinic on {date}.", { date: on });
}

const ACCESSIBILITY = {
  step_free_entrance: t("Step-free entrance"),
  accessible_restroom: t("Accessible restroom"),
  elevator: t("Elevator"),
  accessible_parking: t("Accessible parking"),
  sign_language_interpreter: t("Sign language interpreter on request"),
  service_animals_welcome: t("Service animals welcome"),
  hearing_loop: t("Hearing loop"),
  large_print: t("Large-print materials"),
  quiet_room: t("Quiet, low-stimulation room"),
  near_public_transit: t("Near public transit"),
};

const SPECIALTIES = {
  anesthesiology: t("Anesthesiology"), psychiatry: t("Psychiatry"), pain_medicine: t("Pain medicine"), emergency_medicine: t("Emergency medicine"),
  family_medicine: t("Family medicine"), internal_medicine: t("Internal medicine"), psychology: t("Psychology"), nursing: t("Nursing"),
  social_work: t("Social work"), counseling: t("Counseling"),
};

function render(p, names) {
  document.title = t("{name} – Infusion provider directory", { name: p.name });
  // The clinic's own words are in English (until it gives them in this language): marked so.
  const theirs = lang === "en" ? {} : { lang: "en" };
  const translated = lang !== "en" ? ((p.translations || {})[lang] || {}).description : null;
  const englishNote = t("The clinic describes itself in English:");
  const checked = p.verification && p.verification.last_verified_at;
  const tel = p.phone;
  const locations = p.locations.map((location, index) => {
    const open = openNow(location);
    return h("li", { class: "location" },
      h("h3", {}, location.name || `${location.city || t("Location")}${location.state ? `, ${location.state}` : ""}`),
      h("p", { class: "address" }, address(location), " ", open === true ? h("span", { class: "open" }, t("Open now")) : open === false ? h("span", { class: "closed" }, t("Closed now")) : null),
      location.phone ? h("p", {}, h("a", { href: `tel:${location.phone}` }, phone(location.phone))) : null,
      hoursTable(location, index),
      (location.accessibility_features || []).length
        ? h("div", { class: "access" }, h("strong", {}, t("Accessibility")), h("ul", { class: "chips" }, location.accessibility_features.map((f) => h("li", {}, ACCESSIBILITY[f] || f.replace(/_/g, " ")))))
        : null,
      location.accessibility
        ? h("p", {}, h("strong", {}, (location.accessibility_features || []).length ? t("The clinic says: ") : t("Accessibility: ")), h("span", theirs, location.accessibility))
        : null,
      location.rems_certified
        ? h("p", {}, h("strong", {}, t("Spravato: ")), location.rems_certified_on
          ? t("certified under the REMS program since {date}, so esketamine can be given here.", { date: date(location.rems_certified_on) })
          : t("certified under the REMS program, so esketamine can be given here."))
        : null,
    );
  });
  const clinicians = p.clinicians.map((c) =>
    h("li", { class: "clinician" },
      h("h3", {}, [c.first_name, c.last_name].filter(Boolean).join(" "), c.credential ? `, ${c.credential}` : ""),
      definition([
        [t("Role"), c.role ? h("span", theirs, c.role) : null],
        [t("Specialty"), c.specialty ? SPECIALTIES[c.specialty] || c.specialty.replace(/_/g, " ") : null],
        [t("Licenses"), (c.licenses || []).map((l) => `${l.state} ${l.number}` + (l.expires_on ? t(" (until {date})", { date: date(l.expires_on) }) : "")).join("; ")],
        [t("Board certifications"), (c.board_certifications || []).length ? h("span", theirs, c.board_certifications.join("; ")) : null],
        [t("NPI"), c.npi],
        [t("Registry check"), c.verification_status === "verified" ? t("Confirmed in the NPI registry") : null],
      ]),
    ),
  );
  const services = p.services.map((s) => {
    const cost = price({ min: s.price_min, max: s.price_max });
    return h("li", {}, (names && names.services.get(s.code)) || s.name, cost ? ` · ${cost}` : "", s.session_minutes ? " · " + t("{minutes} min", { minutes: s.session_minutes }) : "");
  });
  // replaceChildren would write a null as the text "null": parts a listing lacks are left out first.
  main.replaceChildren(...[
    h("p", {}, h("a", { href: here(`/${sessionStorage.getItem("directory.search") || ""}`) }, t("← Back to the search"))),
    h("h1", { tabindex: "-1", id: "name" }, p.name),
    h("p", { class: "meta" },
      p.verification && p.verification.verified ? h("a", { href: here("/how-we-check"), class: "badge-link", title: t("How we check listings") }, verifiedBadge(true, checked)) : null,
      p.verification && p.verification.stale ? h("span", { class: "badge stale" }, t("Check overdue")) : null,
      p.verification && !p.verification.verified ? h("a", { class: "badge muted", href: here("/how-we-check") }, UNVERIFIED[p.verification.status] || UNVERIFIED.unverified) : null,
      p.accepting_new_patients ? h("span", { class: "badge" }, t("Accepting new patients")) : p.accepting_new_patients === false ? h("span", { class: "badge muted" }, t("Not accepting new patients")) : null,
      p.telehealth ? h("span", { class: "badge" }, p.telehealth_states.length ? t("Telehealth in {states}", { states: p.telehealth_states.join(", ") }) : t("Telehealth")) : null,
    ),
    // The clinic's description in the page's language when it wrote one; else its English words, said to be English.
    translated ? h("p", { class: "lead" }, translated) : null,
    !translated && p.description && lang !== "en" ? h("p", { class: "hint", id: "description-language" }, englishNote) : null,
    !translated && p.description ? h("p", { class: "lead", ...theirs }, p.description) : null,
    h("p", { class: "contact" },
      tel ? h("a", { href: `tel:${tel}` }, phone(tel)) : null,
      web(p.website) ? h("a", { href: web(p.website), rel: "noopener nofollow", target: "_blank" }, t("Website"), h("span", { class: "visually-hidden" }, t(" (opens in a new tab)"))) : null,
      p.email ? h("a", { href: `mailto:${p.email}` }, p.email) : null,
    ),
    section(t("Conditions treated"), chips(named(p.conditions, names && names.conditions), t("Conditions treated"))),
    section(t("Services"), services.length ? h("ul", { class: "plain" }, services) : null, p.routes.length ? h("p", {}, h("strong", {}, t("Routes: ")), p.routes.map((r) => ROUTES[r] || r).join(", ")) : null),
    section(p.locations.length === 1 ? t("Location") : t("Locations"), h("ul", { class: "plain locations" }, locations)),
    section(t("Clinicians"), clinicians.length ? h("ul", { class: "plain clinicians" }, clinicians) : h("p", {}, t("No clinicians listed yet."))),
    section(t("Payment and insurance"), definition([
      [t("Price per session"), price(p.price)],
      [t("Payment"), p.payment_options.map((o) => PAYMENT[o] || o).join(", ")],
      [t("Insurance accepted"), p.insurance_carriers.join(", ")],
      [t("Languages"), p.languages.map(language).join(", ")],
      [t("REMS-certified (Spravato)"), p.rems_certified ? t("Yes") : null],
      [t("Organization NPI"), p.npi],
    ])),
    previewing ? null : consultationForm(p),
    previewing ? null : reportForm(p),
    h("p", { class: "claim" }, t("Is this your clinic? "), h("a", { href: `/portal/claim/${encodeURIComponent(p.slug)}` }, t("Claim and update this listing")), "."),
    h("div", { class: "hint freshness" },
      h("p", {}, confirmedLine(p.confirmation)),
      checked
        ? h("p", {}, p.verification.stale
          ? t("NPI checked against the national registry on {date} (a new check is overdue).", { date: date(checked) })
          : t("NPI checked against the national registry on {date}.", { date: date(checked) }))
        : null,
      h("p", {}, t("Listing updated {date}. ", { date: date(p.updated_at) }), h("a", { href: here("/how-we-check") }, t("How we check listings"))),
    ),
  ].filter(Boolean));
  document.getElementById("name").focus({ preventScroll: true });
}

(async function start() {
  try {
    // The listing, and in another language than English the taxonomy's names in it (or the listing's own).
    const [listing, names] = await Promise.all([api(source), lang === "en" ? null : taxonomyNames().catch(() => null)]);
    render(listing, names);
  } catch (error) {
    document.title = t("Listing not found – Infusion provider directory");
    const missing = error instanceof ApiError && error.status === 404;
    main.replaceChildren(
      h("h1", {}, missing ? t("This listing is not in the directory") : t("The listing could not be loaded")),
      h("p", { role: "alert" }, missing ? t("It may have closed or moved. Search for providers near you instead.") : error.message),
      h("p", {}, h("a", { href: here("/") }, t("Search the directory"))),
    );
  }
  status.remove?.();
  document.body.dataset.ready = "true";
})();
