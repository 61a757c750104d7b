// The search page: a place and a condition, filters with counts, a list and a map kept in step.
// The whole state lives in the page's URL, with the API's own parameter names: a search can be
// shared, and the back button returns to the previous one.
import { api, h, web, price, phone, address, language, verifiedBadge, chips, named, ApiError } from "./common.js";
import { resultsMap } from "./map.js";
import { t, tn, number as figure, here } from "./i18n.js";

const PAGE = 20;
const RADII = [10, 25, 50, 100, 250, 500];
const FILTERS = [
  "radius", "service", "accepting_new_patients", "telehealth", "open_now", "verified", "payment", "insurance", "max_price", "language",
  "credential", "specialty", "accessibility", "rems_certified",
];
const PLACE = ["near", "lat", "lon"];

const $ = (id) => document.getElementById(id);
const ui = {
  search: $("search"), where: $("where"), locate: $("locate"), condition: $("condition"), names: $("condition-names"),
  filters: $("filters"), services: $("services"), insurance: $("insurance"), language: $("language"),
  status: $("status"), notice: $("notice"), list: $("list"), more: $("more"),
  beyond: $("beyond"), beyondHeading: $("beyond-heading"), beyondList: $("beyond-list"),
};

const taxonomy = { conditions: [], services: new Map(), conditionNames: new Map(), byWord: new Map() };
let current = { params: new URLSearchParams(), cursor: null, count: 0 };
let generation = 0;

// --- the taxonomy: suggestions and names ------------------------------------------------------

async function loadTaxonomy() {
  const [conditions, services] = await Promise.all([api("/v1/conditions"), api("/v1/services")]);
  taxonomy.conditions = conditions.items;
  for (const item of conditions.items) taxonomy.conditionNames.set(item.code, item.name);
  // As the API reads them: an entry's code and name before any other's synonym.
  for (const item of conditions.items) for (const word of [item.code, item.name]) taxonomy.byWord.set(word.toLowerCase(), item);
  for (const item of conditions.items) {
    for (const word of item.synonyms || []) if (!taxonomy.byWord.has(word.toLowerCase())) taxonomy.byWord.set(word.toLowerCase(), item);
  }
  // The suggestions as a tree: each broad condition ("all kinds"), then the kinds below it.
  const byCode = new Map(conditions.items.map((item) => [item.code, item]));
  const suggest = (item, depth) => {
    const label = item.children && item.children.length ? t("{condition}: all kinds", { condition: item.name }) : depth ? `${byCode.get(item.parent).name} › ${item.name}` : item.name;
    ui.names.append(h("option", { value: item.name }, label));
    for (const synonym of item.synonyms || []) {
      if (synonym.toLowerCase() !== item.name.toLowerCase()) ui.names.append(h("option", { value: synonym }, label));
    }
    for (const child of item.children || []) if (byCode.has(child)) suggest(byCode.get(child), depth + 1);
  };
  for (const item of conditions.items) if (!item.parent || !byCode.has(item.parent)) suggest(item, 0);
  for (const item of services.items) taxonomy.services.set(item.code, item.name);
}

/** The condition's code for what was typed (its code, name or another name), else null. */
function conditionCode(text) {
  const typed = text.trim();
  if (!typed) return "";
  const known = taxonomy.byWord.get(typed.toLowerCase());
  return known ? known.code : null;
}

function conditionName(code) {
  const known = taxonomy.byWord.get((code || "").toLowerCase());
  return known ? known.name : code;
}

// --- state <-> URL <-> form --------------------------------------------------------------------

function stateFromForms() {
  const params = new URLSearchParams();
  const where = ui.where.value.trim();
  if (ui.where.dataset.lat && where === ui.where.dataset.label) {
    params.set("lat", ui.where.dataset.lat);
    params.set("lon", ui.where.dataset.lon);
  } else if (where) {
    params.set("near", where);
  }
  // A condition the taxonomy knows is a filter; other words (a misspelling, a clinic's or a
  // clinician's name) are free text, which forgives typos and accents.
  const condition = conditionCode(ui.condition.value);
  if (condition) params.set("condition", condition);
  else if (condition === null) params.set("q", ui.condition.value.trim());
  const filters = new FormData(ui.filters);
  for (const name of FILTERS) {
    for (const value of filters.getAll(name)) if (value !== "") params.append(name, value);
  }
  return params;
}

function formsFromState(params) {
  if (params.has("lat") && params.has("lon")) {
    ui.where.dataset.lat = params.get("lat");
    ui.where.dataset.lon = params.get("lon");
    ui.where.dataset.label = ui.where.value = t("My location");
  } else {
    delete ui.where.dataset.lat;
    ui.where.value = params.get("near") || "";
  }
  ui.condition.value = params.get("condition") ? conditionName(params.get("condition")) : params.get("q") || "";
  for (const element of ui.filters.elements) {
    if (!element.name) continue;
    const values = params.getAll(element.name);
    if (element.type === "checkbox") element.checked = values.includes(element.value);
    else if (element.tagName === "SELECT") {
      const value = values[0] || (element.name === "radius" ? "25" : "");
      if (value && ![...element.options].some((o) => o.value === value)) element.append(h("option", { value }, value));
      element.value = value;
    } else element.value = values[0] || "";
  }
  ui.filters.dataset.services = JSON.stringify(params.getAll("service"));
}

/** The switch to the other language keeps the search. */
function keepInSwitch(query) {
  for (const link of document.querySelectorAll("a.language-switch")) link.search = query ? `?${query}` : "";
}

function go(params, { push = true } = {}) {
  const query = params.toString();
  sessionStorage.setItem("directory.search", query ? `?${query}` : "");
  keepInSwitch(query);
  if (push && query !== new URLSearchParams(window.location.search).toString()) {
    window.history.pushState(null, "", query ? `?${query}` : window.location.pathname);
  }
  return search(params);
}

// --- searching -----------------------------------------------------------------------------------

function hasPlace(params) {
  return PLACE.some((name) => params.has(name));
}

async function search(params) {
  const mine = ++generation;
  current = { params, cursor: null, count: 0 };
  ui.list.replaceChildren();
  ui.beyondList.replaceChildren();
  ui.beyond.hidden = true;
  ui.more.hidden = true;
  hideNotice();
  markers.clear();
  if (!hasPlace(params) && !params.has("condition") && !params.has("q")) {
    announce(t("Enter a place and a condition to find providers."));
    return;
  }
  announce(t("Searching…"));
  try {
    const extra = hasPlace(params) ? { beyond_radius: "true" } : {};
    const answer = await api("/v1/search", { ...query(params), ...extra, limit: PAGE, total: "true", facets: "true" });
    if (mine !== generation) return;
    showFacets(answer.facets, params);
    current.cursor = answer.next_cursor;
    searchedState = answer.place ? answer.place.state : null;
    if (answer.place && hasPlace(params)) markers.place(answer.place.latitude, answer.place.longitude, answer.place.label || t("Your location"));
    addHits(answer.items);
    addBeyond(answer, params);
    ui.more.hidden = !answer.next_cursor;
    if (!answer.items.some((hit) => !hit.remote)) await explainEmpty(params, answer, mine);
    else announce(summary(answer, params));
    markers.fit();
  } catch (error) {
    if (mine !== generation) return;
    showError(error);
  }
}

function query(params) {
  const out = { unit: "mi" };
  for (const name of new Set(params.keys())) out[name] = params.getAll(name);
  if (!hasPlace(params)) delete out.radius;
  return out;
}

async function more() {
  if (!current.cursor) return;
  const mine = generation;
  ui.more.disabled = true;
  try {
    const answer = await api("/v1/search", { ...query(current.params), limit: PAGE, cursor: current.cursor });
    if (mine !== generation) return;
    const first = current.count;
    current.cursor = answer.next_cursor;
    addHits(answer.items);
    ui.more.hidden = !answer.next_cursor;
    announce(tn("{count} more provider shown, {all} in all.", "{count} more providers shown, {all} in all.", answer.items.length, { all: figure(current.count) }));
    const link = ui.list.children[first]?.querySelector("h3 a");
    if (link) link.focus();
    markers.fit();
  } catch (error) {
    showError(error);
  } finally {
    ui.more.disabled = false;
  }
}

function placeName(answer) {
  return answer.place ? answer.place.label || t("your location") : t("your location");
}

/** "treating PTSD", "matching “words”" or nothing: what the search asked for, as the sentences end. */
function asked(params) {
  if (params.get("condition")) return t(" treating {condition}", { condition: conditionName(params.get("condition")) });
  if (params.get("q")) return t(" matching “{words}”", { words: params.get("q") });
  return "";
}

/** What was found, in words. A remote (telehealth) hit is never counted "within" the radius. */
function summary(answer, params) {
  const total = answer.total ?? answer.items.length;
  const what = asked(params);
  if (!(hasPlace(params) && answer.place)) {
    return answer.estimated
      ? tn("About {count} provider{what}.", "About {count} providers{what}.", total, { what })
      : tn("{count} provider{what}.", "{count} providers{what}.", total, { what });
  }
  const where = { radius: figure(answer.radius), unit: answer.unit, place: placeName(answer), what };
  const remote = answer.items.filter((hit) => hit.remote).length;
  const state = answer.place.state;
  if (answer.next_cursor && state && !answer.estimated) {
    // Not every hit is shown yet: the count may hold remote ones still to come.
    return tn(
      "{count} provider within {radius} {unit} of {place} or offering telehealth in {state}{what}.",
      "{count} providers within {radius} {unit} of {place} or offering telehealth in {state}{what}.",
      total, { ...where, state },
    );
  }
  if (!remote) {
    return answer.estimated
      ? tn("About {count} provider within {radius} {unit} of {place}{what}.", "About {count} providers within {radius} {unit} of {place}{what}.", total, where)
      : tn("{count} provider within {radius} {unit} of {place}{what}.", "{count} providers within {radius} {unit} of {place}{what}.", total, where);
  }
  const near = tn("{count} provider within {radius} {unit} of {place}{what}", "{count} providers within {radius} {unit} of {place}{what}", answer.items.length - remote, where);
  return `${near}; ` + tn("{count} more offers telehealth in {state}.", "{count} more offer telehealth in {state}.", remote, { state });
}

function addBeyond(answer, params) {
  const beyond = answer.beyond_radius || [];
  if (!beyond.length) return;
  ui.beyondHeading.textContent = t("The nearest beyond {radius} {unit} of {place}", { radius: figure(answer.radius), unit: answer.unit, place: placeName(answer) });
  for (const hit of beyond) {
    current.count += 1;
    const card = renderCard(hit, current.count);
    ui.beyondList.append(card);
    markers.add(hit, current.count, card);
  }
  ui.beyond.hidden = false;
}

async function explainEmpty(params, answer, mine) {
  const radius = Number(params.get("radius") || 25);
  const what = asked(params);
  const none = !hasPlace(params)
    ? t("No providers{what}.", { what })
    : answer.place
      ? t("No providers within {radius} mi of {place}{what}.", { radius: figure(radius), place: placeName(answer), what })
      : t("No providers within {radius} mi{what}.", { radius: figure(radius), what });
  const remote = answer.items.filter((hit) => hit.remote).length;
  const beyond = answer.beyond_radius || [];
  let nearest = "";
  if (beyond.length) {
    const first = beyond[0];
    const distance = { name: first.provider.name, distance: figure(Math.round(first.distance)), unit: answer.unit };
    nearest = first.location && first.location.city
      ? " " + t("The nearest: {name} in {city}, {distance} {unit}.", { ...distance, city: first.location.city })
      : " " + t("The nearest: {name}, {distance} {unit}.", distance);
  }
  const offering = remote ? " " + tn("{count} offers telehealth in {state}.", "{count} offer telehealth in {state}.", remote, { state: answer.place.state }) : "";
  announce(`${none}${nearest}${offering}`);
  const actions = [];
  // Wide enough to reach the nearest beyond, when a radius the API takes can.
  const reach = beyond.length ? beyond[0].distance : 0;
  const wider = RADII.find((r) => r > radius && r >= reach) || (reach ? null : RADII.find((r) => r > radius));
  if (hasPlace(params) && wider) {
    actions.push(h("button", { type: "button", class: "secondary", onclick: () => changeParams({ radius: String(wider) }) }, t("Widen to {radius} mi", { radius: figure(wider) })));
  }
  const narrowing = FILTERS.filter((name) => name !== "radius" && params.has(name));
  if (narrowing.length) {
    actions.push(h("button", { type: "button", class: "secondary", onclick: () => changeParams(Object.fromEntries(narrowing.map((n) => [n, null]))) }, t("Clear the filters")));
  }
  let telehealth = null;
  if (hasPlace(params) && !params.has("telehealth") && !remote && answer.place && answer.place.state) {
    try {
      const remote = await api("/v1/search", { ...query(params), telehealth: "true", limit: 100 });
      if (mine !== generation) return;
      const count = remote.items.filter((hit) => hit.remote || hit.provider.telehealth).length;
      if (count) {
        telehealth = tn("{count} offers telehealth in {state}.", "{count} offer telehealth in {state}.", count, { state: answer.place.state });
        actions.push(h("button", { type: "button", class: "secondary", onclick: () => changeParams({ telehealth: "true" }) }, t("Show telehealth options")));
      }
    } catch {
      // the suggestion is a courtesy: without it the page still says what to do
    }
  }
  const widen = wider && hasPlace(params) ? " " + t("Widen to {radius} mi?", { radius: figure(wider) }) : "";
  showNotice(h("p", {}, none, nearest, offering, widen, telehealth ? ` ${telehealth}` : ""), actions);
}

function changeParams(changes) {
  const params = new URLSearchParams(current.params);
  for (const [name, value] of Object.entries(changes)) {
    params.delete(name);
    if (value !== null) params.set(name, value);
  }
  formsFromState(params);
  go(params);
}

function showError(error) {
  const problem = error instanceof ApiError ? error.problem : {};
  const fields = (problem.errors || []).map((e) => e.reason).filter(Boolean);
  const message = [error.message, ...fields.filter((reason) => !error.message.includes(reason))].join(" ");
  announce(t("The search could not be done."));
  showNotice(h("p", { role: "alert" }, message || t("Something went wrong. Try again.")), []);
}

function announce(text) {
  ui.status.textContent = text;
}

function showNotice(paragraph, actions) {
  ui.notice.replaceChildren(paragraph, actions.length ? h("p", { class: "actions" }, actions) : "");
  ui.notice.hidden = false;
}

function hideNotice() {
  ui.notice.hidden = true;
  ui.notice.replaceChildren();
}

// --- facets ---------------------------------------------------------------------------------------

function showFacets(facets, params) {
  if (!facets) return;
  const chosen = new Set(params.getAll("service"));
  const counts = new Map(facets.service.map((f) => [f.value, f.count]));
  const codes = [...new Set([...facets.service.map((f) => f.value), ...chosen])];
  codes.sort((a, b) => (taxonomy.services.get(a) || a).localeCompare(taxonomy.services.get(b) || b));
  ui.services.replaceChildren(
    ...(codes.length
      ? codes.map((code) =>
          h("label", {}, h("input", { type: "checkbox", name: "service", value: code, checked: chosen.has(code) }), ` ${taxonomy.services.get(code) || code} `, h("span", { class: "count" }, `(${figure(counts.get(code) || 0)})`)),
        )
      : [h("p", { class: "hint" }, t("No services among these results."))]),
  );
  fillSelect(ui.insurance, facets.insurance, params.get("insurance"), (v) => v);
  fillSelect(ui.language, facets.language, params.get("language"), language);
}

function fillSelect(select, counts, chosen, label) {
  const options = [h("option", { value: "" }, t("Any"))];
  const values = counts.map((f) => f.value);
  if (chosen && !values.includes(chosen)) counts = [...counts, { value: chosen, count: 0 }];
  for (const facet of counts) options.push(h("option", { value: facet.value }, `${label(facet.value)} (${figure(facet.count)})`));
  select.replaceChildren(...options);
  select.value = chosen || "";
}

// --- the list ---------------------------------------------------------------------------------------

function addHits(hits) {
  for (const hit of hits) {
    current.count += 1;
    const number = current.count;
    const card = renderCard(hit, number);
    ui.list.append(card);
    markers.add(hit, number, card);
  }
}

function renderCard(hit, number) {
  const p = hit.provider;
  const location = hit.location || {};
  const distance = hit.remote
    ? placeState() ? t("Telehealth in {state}", { state: placeState() }) : t("Telehealth")
    : hit.distance != null ? t("{distance} mi", { distance: figure(hit.distance, 1) }) : null;
  const open = location.open_now === true ? h("span", { class: "open" }, t("Open now")) : location.open_now === false ? h("span", { class: "closed" }, t("Closed now")) : null;
  const tel = location.phone || p.phone;
  const card = h(
    "li",
    { class: "card", "data-number": number, "data-id": p.id },
    h("article", { "aria-labelledby": `card-${number}` },
      h("header", {},
        h("span", { class: "number", "aria-hidden": "true" }, number),
        h("h3", { id: `card-${number}` }, h("a", { href: here(`/providers/${encodeURIComponent(p.slug)}`) }, p.name)),
        distance ? h("span", { class: "distance" }, distance) : null,
      ),
      h("p", { class: "meta" }, verifiedBadge(p.verified, p.last_verified_at), p.accepting_new_patients ? h("span", { class: "badge" }, t("Accepting new patients")) : null, p.telehealth ? h("span", { class: "badge" }, t("Telehealth")) : null),
      location.city ? h("p", { class: "address" }, address(location), " ", open) : null,
      hit.remote
        ? h("p", { class: "address" }, placeState() ? t("Offers telehealth in {state}: no clinic near you.", { state: placeState() }) : t("Offers telehealth in your state: no clinic near you."))
        : null,
      chips(named(p.conditions, taxonomy.conditionNames), t("Conditions treated")),
      chips(named(p.services, taxonomy.services), t("Services")),
      h("p", { class: "contact" },
        price(p.price) ? h("span", { class: "price" }, t("{price} per session", { price: price(p.price) })) : null,
        tel ? h("a", { href: `tel:${tel}` }, phone(tel)) : null,
        web(p.website) ? h("a", { href: web(p.website), rel: "noopener nofollow", target: "_blank" }, t("Website"), h("span", { class: "visually-hidden" }, t(" of {name} (opens in a new tab)", { name: p.name }))) : null,
      ),
    ),
  );
  card.addEventListener("mouseenter", () => markers.highlight(number, true));
  card.addEventListener("mouseleave", () => markers.highlight(number, false));
  card.addEventListener("focusin", () => markers.highlight(number, true));
  card.addEventListener("focusout", () => markers.highlight(number, false));
  return card;
}

let searchedState = null;
function placeState() {
  return searchedState;
}

const markers = resultsMap("map");

// --- wiring -----------------------------------------------------------------------------------------

ui.search.addEventListener("submit", (event) => {
  event.preventDefault();
  go(stateFromForms());
});

ui.filters.addEventListener("change", () => go(stateFromForms()));
ui.filters.addEventListener("submit", (event) => {
  event.preventDefault();
  go(stateFromForms());
});

ui.more.addEventListener("click", more);

ui.locate.addEventListener("click", () => {
  if (!navigator.geolocation) {
    showNotice(h("p", { role: "alert" }, t("This browser cannot share its location. Type a ZIP code or a city instead.")), []);
    return;
  }
  announce(t("Finding your location…"));
  navigator.geolocation.getCurrentPosition(
    (position) => {
      ui.where.dataset.lat = position.coords.latitude.toFixed(5);
      ui.where.dataset.lon = position.coords.longitude.toFixed(5);
      ui.where.dataset.label = ui.where.value = t("My location");
      go(stateFromForms());
    },
    () => {
      announce(t("Your location is not available."));
      showNotice(h("p", { role: "alert" }, t("Your location is not available (permission was refused or it could not be found). Type a ZIP code or a city instead.")), []);
      ui.where.focus();
    },
    { timeout: 10000, maximumAge: 600000 },
  );
});

window.addEventListener("popstate", () => {
  const params = new URLSearchParams(window.location.search);
  sessionStorage.setItem("directory.search", window.location.search);
  keepInSwitch(params.toString());
  formsFromState(params);
  search(params);
});

// On a phone the results come first: the filters start folded.
if (window.matchMedia("(max-width: 999px)").matches) document.getElementById("filters-box").open = false;

(async function start() {
  try {
    await loadTaxonomy();
  } catch (error) {
    showError(error);
  }
  await markers.ready;
  const params = new URLSearchParams(window.location.search);
  formsFromState(params);
  sessionStorage.setItem("directory.search", window.location.search);
  if ([...params.keys()].length) await search(params);
  document.body.dataset.ready = "true";
})();

