// Small helps on the portal's forms; every form works without them.
// - A password's strength, as the server judges it (zxcvbn), shown as it is typed.
// - A location's pin on a map, which can be dragged: its coordinates go into the form's fields.
// - The first field with an error, or the error summary, takes the focus after a refused form.
// Their words come from the page's catalog (see /static/i18n.js), as the directory's pages do.
import { t } from "/static/i18n.js";

/** The portal's root in the page's language: /portal, or /es/portal. */
const home = document.querySelector('meta[name="directory-portal"]')?.content || "/portal";

function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

function strengthMeters() {
  for (const input of document.querySelectorAll("input[data-strength]")) {
    const meter = document.getElementById(input.dataset.strength);
    const form = input.form;
    const email = input.dataset.emailField ? document.getElementById(input.dataset.emailField) : null;
    const check = debounce(async () => {
      if (!input.value) {
        meter.textContent = "";
        return;
      }
      const body = new FormData();
      body.set("csrf_token", form.querySelector('input[name="csrf_token"]').value);
      body.set("password", input.value);
      if (email) body.set("email", email.value);
      try {
        const response = await fetch(`${home}/password-check`, { method: "POST", body, credentials: "same-origin" });
        const verdict = await response.json();
        meter.textContent = verdict.ok ? t("Strong enough.") : t("Not yet: {reason}.", { reason: verdict.message });
        meter.className = `strength ${verdict.ok ? "ok" : "weak"}`;
      } catch {
        meter.textContent = "";
      }
    }, 350);
    input.addEventListener("input", check);
  }
}

function pinMaps() {
  if (!window.L) return;
  const tiles = document.querySelector('meta[name="directory-map-tiles"]')?.content;
  for (const element of document.querySelectorAll(".pin-map")) {
    const form = document.getElementById(element.dataset.form);
    const at = [Number(element.dataset.lat), Number(element.dataset.lon)];
    const map = L.map(element, { scrollWheelZoom: false, attributionControl: Boolean(tiles) }).setView(at, tiles ? 16 : 7);
    if (tiles) {
      L.tileLayer(tiles, { attribution: document.querySelector('meta[name="directory-map-attribution"]')?.content || "", maxZoom: 19 }).addTo(map);
    } else {
      fetch("/static/vendor/us-atlas/states-10m.json")
        .then((response) => response.json())
        .then((atlas) => {
          if (!window.topojson) return;
          L.geoJSON(topojson.feature(atlas, atlas.objects.states), { style: { color: "#7a8a99", weight: 1, fillColor: "#eef2f5", fillOpacity: 1 }, interactive: false }).addTo(map);
        })
        .catch(() => {});
    }
    const marker = L.marker(at, { draggable: true, title: t("The location's pin: drag it to the door"), alt: t("Location pin") }).addTo(map);
    marker.on("dragend", () => {
      const { lat, lng } = marker.getLatLng();
      form.querySelector('input[name="latitude"]').value = lat.toFixed(6);
      form.querySelector('input[name="longitude"]').value = lng.toFixed(6);
      form.querySelector('input[name="moved"]').checked = true;
      form.querySelector("details.pin").open = true;
    });
  }
}

function focusProblems() {
  const target = document.getElementById("error-summary") || document.getElementById("conflict");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus();
  }
}

strengthMeters();
pinMaps();
focusProblems();
document.body.dataset.ready = "true";
