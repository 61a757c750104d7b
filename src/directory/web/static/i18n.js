// The page's language and its words. The translations come with the page (a JSON script element
// the server fills from the same gettext catalogs as the page's own text); English is the text as
// written here. `t("Open now")`, `t("{count} more providers", { count })`; `tn(one, many, n)` for
// words that change with a number ({count} is the number, written the language's way).
const element = document.getElementById("directory-messages");
let catalog = {};
try {
  catalog = element ? JSON.parse(element.textContent || "{}") : {};
} catch {
  catalog = {};
}

/** The page's language ("en", "es") and the locale its numbers and dates are written in. */
export const lang = document.documentElement.lang || "en";
export const locale = `${lang}-US`;
/** What the addresses of this language's pages begin with ("" in English, "/es" in Spanish). */
export const prefix = lang === "en" ? "" : `/${lang}`;

const plural = new Intl.PluralRules(locale);
const numbers = new Intl.NumberFormat(locale);

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function t(text, values = {}) {
  const found = catalog[text];
  return fill(typeof found === "string" && found ? found : text, values);
}

export function tn(one, many, count, values = {}) {
  const found = catalog[one];
  const form = plural.select(count) === "one" ? 0 : 1;
  const text = Array.isArray(found) && found[form] ? found[form] : form === 0 ? one : many;
  return fill(text, { count: numbers.format(count), ...values });
}

/** A number the page's way (1,234 and 12.5 in English), with this many decimals when given. */
export function number(value, digits) {
  const options = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(locale, options).format(value);
}

/** A page of the directory in this page's language: here("/providers/x") is "/es/providers/x" in Spanish. */
export function here(path) {
  return prefix + path;
}
