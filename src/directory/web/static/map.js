// The results map: the US states shipped with the app (or a tile server, if one is set), a numbered
// marker per result, clustered when dense, kept in step with the list's cards.
import { t } from "./i18n.js";

export function resultsMap(element) {
  let map = null;
  let group = null;
  const byNumber = new Map();
  let searched = null;
  let highlighted = null; // the number of the card hovered or focused, shown on the map once it has settled

  async function init() {
    if (!window.L) return;
    map = L.map(element, { zoomControl: true, keyboard: false, attributionControl: true, minZoom: 3, maxZoom: 18 }).setView([39.5, -98.35], 4);
    const tiles = document.querySelector('meta[name="directory-map-tiles"]').content;
    if (tiles) {
      L.tileLayer(tiles, { attribution: document.querySelector('meta[name="directory-map-attribution"]').content, maxZoom: 18 }).addTo(map);
    } else {
      map.attributionControl.addAttribution(t("US states: U.S. Census Bureau, via us-atlas"));
      try {
        const atlas = await (await fetch("/static/vendor/us-atlas/states-10m.json")).json();
        const states = topojson.feature(atlas, atlas.objects.states);
        L.geoJSON(states, { style: { color: "#7a8a99", weight: 1, fillColor: "#eef2f5", fillOpacity: 1 }, interactive: false }).addTo(map);
      } catch {
        // without the shapes the markers still show where the providers are
      }
    }
    group = L.markerClusterGroup ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 }) : L.layerGroup();
    group.addTo(map);
    // A card hovered while the map moves or its clusters redraw has no marker element yet (or one
    // about to be replaced): show it again once they have settled.
    const again = () => show(highlighted, true);
    map.on("moveend zoomend", again);
    group.on("animationend", again);
  }

  function show(number, on) {
    const marker = number == null ? null : byNumber.get(number);
    if (!marker || !group) return;
    const shown = group.getVisibleParent ? group.getVisibleParent(marker) : marker;
    const element = shown && shown.getElement && shown.getElement();
    if (element) element.classList.toggle("active", on);
    if (on && marker.getElement()) marker.setZIndexOffset(1000);
    else marker.setZIndexOffset(0);
  }

  const ready = init();

  return {
    ready,
    clear() {
      byNumber.clear();
      highlighted = null;
      if (group) group.clearLayers();
      if (searched) searched.remove();
      searched = null;
    },
    /** The searched place, pinned apart from the numbered results. */
    place(latitude, longitude, label) {
      if (!map) return;
      const icon = L.divIcon({ className: "pin place", html: "<span>●</span>", iconSize: [22, 22], iconAnchor: [11, 11] });
      searched = L.marker([latitude, longitude], { icon, keyboard: false, title: t("Searched: {place}", { place: label }), alt: t("Searched: {place}", { place: label }), zIndexOffset: 2000 }).addTo(map);
    },
    add(hit, number, card) {
      const location = hit.location;
      if (!group || !location || hit.remote || location.latitude == null) return;
      const icon = L.divIcon({ className: "pin", html: `<span>${number}</span>`, iconSize: [28, 28], iconAnchor: [14, 14] });
      const marker = L.marker([location.latitude, location.longitude], { icon, keyboard: false, title: hit.provider.name, alt: hit.provider.name });
      marker.on("click", () => {
        card.scrollIntoView({ block: "nearest", behavior: "smooth" });
        card.querySelector("h3 a").focus({ preventScroll: true });
      });
      marker.on("mouseover", () => card.classList.add("active"));
      marker.on("mouseout", () => card.classList.remove("active"));
      byNumber.set(number, marker);
      group.addLayer(marker);
    },
    highlight(number, on) {
      if (on) highlighted = number;
      else if (highlighted === number) highlighted = null;
      show(number, on);
    },
    fit() {
      if (!map || !group || (byNumber.size === 0 && !searched)) return;
      const points = [...byNumber.values()].map((m) => m.getLatLng());
      if (searched) points.push(searched.getLatLng());
      const bounds = L.latLngBounds(points);
      const tiles = document.querySelector('meta[name="directory-map-tiles"]').content;
      map.fitBounds(bounds.pad(0.2), { maxZoom: tiles ? 13 : 8 });
    },
  };
}
