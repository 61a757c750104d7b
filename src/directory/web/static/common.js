// What the directory's pages share: calling the public API and showing its answers.
// The pages use only the public API, as any partner would.
import { t, lang, locale } from "./i18n.js";

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `the directory answered ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

/** GET a path of the API with query parameters (arrays repeat the name); the JSON, or an ApiError. */
export async function api(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const one of [].concat(value)) {
      if (one !== undefined && one !== null && one !== "") url.searchParams.append(name, one);
    }
  }
  let response;
  try {
    // The API answers in the page's language where it has the words (the taxonomy's names).
    response = await fetch(url, { headers: { Accept: "application/json", "Accept-Language": lang } });
  } catch (error) {
    throw new ApiError({ detail: t("The directory could not be reached. Check your connection and try again.") }, 0);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body, response.status);
  return body;
}

/** An element with attributes and children; strings become text (never HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function price(range) {
  if (!range || (range.min == null && range.max == null)) return null;
  if ((range.max ?? range.min) === 0) return t("Free");
  const dollars = (n) => `$${Number(n).toLocaleString(locale)}`;
  if (range.min != null && range.max != null && range.min !== range.max) return `${dollars(range.min)}–${dollars(range.max)}`;
  return dollars(range.min ?? range.max);
}

/** +12125550100 as (212) 555-0100; other numbers as given. */
export function phone(e164) {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : e164;
}

/** A web address safe to link to (http or https only), else null. */
export function web(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

export function date(iso) {
  if (!iso) return null;
  return new Date(iso).toLocaleDateString(locale, { year: "numeric", month: "short", day: "numeric" });
}

export function address(location) {
  const street = [location.address_line1, location.address_line2].filter(Boolean).join(", ");
  const city = [location.city, [location.state, location.postal_code].filter(Boolean).join(" ")].filter(Boolean).join(", ");
  return [street, city].filter(Boolean).join(", ");
}

const LANGUAGES = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames([lang], { type: "language" }) : null;

export function language(code) {
  try {
    return (LANGUAGES && LANGUAGES.of(code)) || code;
  } catch {
    return code;
  }
}

export const PAYMENT = {
  self_pay: t("Self-pay"), insurance: t("Insurance"), financing: t("Financing"), sliding_scale: t("Sliding scale"), hsa_fsa: t("HSA / FSA"),
};
export const ROUTES = { iv: t("IV infusion"), im: t("IM injection"), intranasal: t("Intranasal (esketamine)"), oral: t("Oral or sublingual") };

export function verifiedBadge(verified, checkedAt) {
  if (!verified) return null;
  const checked = date(checkedAt);
  return h("span", { class: "badge verified" }, t("✓ Verified"), checked ? h("span", { class: "when" }, t(" · checked {date}", { date: checked })) : null);
}

export function chips(items, label) {
  if (!items || !items.length) return null;
  return h("ul", { class: "chips", "aria-label": label }, items.map((item) => h("li", {}, item.name || item)));
}

let namesAsked = null;

/** The taxonomies' names in the page's language, by code: a listing's document names its
 * conditions and services in English; a page in another language shows them in its own. */
export function taxonomyNames() {
  namesAsked ||= Promise.all([api("/v1/conditions"), api("/v1/services")]).then(([conditions, services]) => ({
    conditions: new Map(conditions.items.map((item) => [item.code, item.name])),
    services: new Map(services.items.map((item) => [item.code, item.name])),
  }));
  return namesAsked;
}

/** Taxonomy references ({code, name}) with their names from ``names`` where it has them. */
export function named(items, names) {
  return names ? (items || []).map((item) => ({ ...item, name: names.get(item.code) || item.name })) : items;
}
