/* <provider-finder>: the directory's finder for partner sites.
 *
 *   <script src="https://directory.example/embed.js" async></script>
 *   <provider-finder condition="ptsd" near="auto" key="pk_..."></provider-finder>
 *
 * Attributes: condition (a code or another name: ptsd, depression, CRPS), near ("auto" asks the
 * browser for the visitor's location; or a ZIP code, a city, an address), key (a browser key of
 * the directory, bound to your site's origins), radius (miles, default 25), limit (1-20, default 5),
 * link (a URL template for each result, with {slug} and {id}; by default the listing on the
 * directory), heading, lang (en or es; by default the language of the page around it, English when
 * the directory does not speak that one).
 * Theme with CSS custom properties on the element: --pf-accent, --pf-text, --pf-muted, --pf-bg,
 * --pf-border, --pf-radius, --pf-font.
 * It lives in a Shadow DOM: the page's CSS cannot break it, and it cannot break the page. It talks
 * only to the directory it was loaded from.
 */
(function () {
  "use strict";
  if (window.customElements === undefined || window.customElements.get("provider-finder")) return;

  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;

  // The finder's words in other languages than English, from the directory's catalog (asked once per
  // language; English, or a language the directory does not speak, is the text as written here).
  var WORDS = {};
  function words(lang) {
    if (lang === "en") return Promise.resolve({});
    if (!WORDS[lang]) {
      WORDS[lang] = fetch(ORIGIN + "/embed/messages/" + encodeURIComponent(lang) + ".json", { credentials: "omit", mode: "cors" })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .catch(function () { return {}; });
    }
    return WORDS[lang];
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) { return values && name in values ? String(values[name]) : whole; });
  }

  var STYLE = [
    // Inherited properties are !important on the host: there the element's own rules win over the page's.
    ":host { display: block; contain: content; font-family: var(--pf-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif) !important;",
    "  color: var(--pf-text, #1b2733) !important; background: var(--pf-bg, #ffffff) !important; border: 1px solid var(--pf-border, #c9d2db) !important;",
    "  border-radius: var(--pf-radius, 8px) !important; padding: 12px 16px !important; line-height: 1.45 !important; font-size: 16px !important;",
    "  font-weight: 400 !important; font-style: normal !important; letter-spacing: normal !important; word-spacing: normal !important;",
    "  text-transform: none !important; text-align: left !important; text-indent: 0 !important; visibility: visible !important; max-width: 100%; }",
    ":host([hidden]) { display: none; }",
    "*, *::before, *::after { box-sizing: border-box; }",
    "h2 { font-size: 1.1em; margin: 0 0 8px; font-weight: 700; color: inherit; }",
    "form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 0 0 8px; }",
    "label { display: grid; gap: 2px; font-weight: 600; font-size: 0.9em; flex: 1 1 10em; }",
    "input { font: inherit; color: inherit; background: var(--pf-bg, #fff); border: 1px solid #6b7a89; border-radius: 6px; padding: 8px; min-height: 44px; width: 100%; }",
    "button { font: inherit; font-weight: 600; min-height: 44px; padding: 8px 14px; border-radius: 6px; cursor: pointer;",
    "  background: var(--pf-accent, #0b5cad); color: #fff; border: 1px solid var(--pf-accent, #0b5cad); }",
    ":focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }",
    "p { margin: 4px 0; }",
    ".status { font-weight: 600; }",
    ".muted { color: var(--pf-muted, #4a5866); font-size: 0.9em; }",
    "ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }",
    "li { border-top: 1px solid var(--pf-border, #c9d2db); padding-top: 8px; overflow-wrap: anywhere; }",
    "a { color: var(--pf-accent, #0b5cad); font-weight: 600; }",
    ".row { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; }",
    ".distance { white-space: nowrap; color: var(--pf-muted, #4a5866); }",
    ".verified { color: #1e6b35; font-weight: 600; }",
    ".error { color: #8a1c1c; }",
    ".credit { margin-top: 8px; font-size: 0.8em; }",
    ".consult { display: grid; gap: 6px; margin: 8px 0; align-items: stretch; }",
    ".consult label { flex: none; }",
    ".consult textarea, .consult select { font: inherit; color: inherit; background: var(--pf-bg, #fff); border: 1px solid #6b7a89; border-radius: 6px; padding: 8px; min-height: 44px; width: 100%; }",
    ".consult .check { display: flex; gap: 6px; align-items: center; font-weight: 400; }",
    ".consult .check input { width: auto; min-height: auto; }",
    ".trap { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }",
    "button.secondary { background: transparent; color: var(--pf-accent, #0b5cad); }",
  ].join("\n");

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.append(child);
    });
    return node;
  }

  var count = 0;

  class ProviderFinder extends HTMLElement {
    static get observedAttributes() {
      return ["condition", "near", "key", "radius", "limit", "link", "heading", "lang"];
    }

    constructor() {
      super();
      this.number = ++count;
      var root = this.attachShadow({ mode: "open" });
      var id = "pf-" + this.number;
      this.words = {};
      this.language = "en";
      this.heading = el("h2", { id: id + "-h" });
      this.input = el("input", { id: id + "-near", type: "text", autocomplete: "postal-code" });
      this.nearLabel = document.createTextNode("");
      this.findButton = el("button", { type: "submit" });
      this.form = el("form", { role: "search", "aria-labelledby": id + "-h" }, [
        el("label", { for: id + "-near" }, [this.nearLabel, this.input]),
        this.findButton,
      ]);
      this.status = el("p", { class: "status", role: "status", "aria-live": "polite" });
      this.list = el("ol", { "aria-labelledby": id + "-h" });
      this.credit = el("p", { class: "credit muted" });
      this.section = el("section", { "aria-labelledby": id + "-h" }, [this.heading, this.form, this.status, this.list, this.credit]);
      root.append(el("style", { text: STYLE }), this.section);
      var self = this;
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.find({ near: self.input.value.trim() });
      });
    }

    connectedCallback() {
      this.start();
    }

    attributeChangedCallback() {
      if (this.isConnected && this.started) this.start();
    }

    /** The language: its own lang, else the page's around it (en, es...); the words once they came. */
    start() {
      this.started = true;
      var asked = (this.getAttribute("lang") || (this.closest("[lang]") || document.documentElement).getAttribute("lang") || "en");
      var lang = asked.trim().toLowerCase().split("-")[0] || "en";
      var self = this;
      var ticket = (this.ticket = (this.ticket || 0) + 1);
      words(lang).then(function (found) {
        if (ticket !== self.ticket) return;
        self.language = Object.keys(found).length ? lang : "en";
        self.words = self.language === "en" ? {} : found;
        self.begin();
      });
    }

    t(text, values) {
      var found = this.words[text];
      return fill(typeof found === "string" && found ? found : text, values);
    }

    figure(value, digits) {
      return new Intl.NumberFormat(this.language + "-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
    }

    begin() {
      var t = this.t.bind(this);
      this.section.setAttribute("lang", this.language);
      this.input.placeholder = t("ZIP code or city");
      this.nearLabel.textContent = t("Near");
      this.findButton.textContent = t("Find");
      var home = ORIGIN + (this.language === "en" ? "/" : "/" + this.language + "/");
      this.credit.replaceChildren(t("Listings from "), el("a", { href: home, target: "_blank", rel: "noopener", text: t("the infusion provider directory") }));
      this.heading.textContent = this.getAttribute("heading") || t("Find a provider near you");
      var near = (this.getAttribute("near") || "").trim();
      if (near && near !== "auto") {
        this.input.value = near;
        this.find({ near: near });
      } else if (near === "auto" && navigator.geolocation) {
        var self = this;
        this.say(t("Finding your location…"));
        navigator.geolocation.getCurrentPosition(
          function (position) {
            self.find({ lat: position.coords.latitude.toFixed(4), lon: position.coords.longitude.toFixed(4) });
          },
          function () {
            self.say(t("Type a ZIP code or a city to see providers near you."));
          },
          { timeout: 8000, maximumAge: 600000 }
        );
      } else {
        this.say(t("Type a ZIP code or a city to see providers near you."));
      }
    }

    say(text, isError) {
      this.status.textContent = text;
      this.status.className = isError ? "status error" : "status";
    }

    link(provider) {
      var template = this.getAttribute("link");
      if (template && /^https?:\/\//.test(template)) {
        return template.replace(/\{slug\}/g, encodeURIComponent(provider.slug)).replace(/\{id\}/g, encodeURIComponent(provider.id));
      }
      return ORIGIN + (this.language === "en" ? "" : "/" + this.language) + "/providers/" + encodeURIComponent(provider.slug);
    }

    find(place) {
      var t = this.t.bind(this);
      if (!place.near && !place.lat) {
        this.say(t("Type a ZIP code or a city to see providers near you."));
        return;
      }
      var url = new URL("/v1/search", ORIGIN);
      var limit = Math.min(Math.max(parseInt(this.getAttribute("limit") || "5", 10) || 5, 1), 20);
      var params = { condition: this.getAttribute("condition"), radius: this.getAttribute("radius") || "25", unit: "mi", limit: String(limit), key: this.getAttribute("key") };
      Object.keys(place).forEach(function (name) { params[name] = place[name]; });
      Object.keys(params).forEach(function (name) {
        if (params[name]) url.searchParams.set(name, params[name]);
      });
      var self = this;
      var ticket = (this.ticket = (this.ticket || 0) + 1);
      this.say(t("Searching…"));
      this.list.replaceChildren();
      fetch(url.toString(), { headers: { Accept: "application/json", "Accept-Language": this.language }, credentials: "omit", mode: "cors" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (answer) {
          if (ticket !== self.ticket) return;
          if (!answer.ok) {
            var problem = answer.body || {};
            var refused = t("the directory refused its key");
            var message = answer.status === 403 || answer.status === 401
              ? t("This finder is not set up for this site. ({reason})", { reason: problem.detail || refused })
              : problem.detail || t("The directory could not answer ({status}).", { status: answer.status });
            self.say(message, true);
            return;
          }
          self.show(answer.body);
        })
        .catch(function () {
          if (ticket === self.ticket) self.say(t("The directory could not be reached, or does not allow this site."), true);
        });
    }

    show(answer) {
      var t = this.t.bind(this);
      var hits = answer.items || [];
      var place = answer.place && answer.place.label;
      var radius = this.figure(answer.radius, 0);
      if (!hits.length) {
        this.say(place
          ? t("No providers within {radius} mi of {place}. Try a wider area or another place.", { radius: radius, place: place })
          : t("No providers within {radius} mi. Try a wider area or another place.", { radius: radius }));
        return;
      }
      var count = this.figure(hits.length, 0);
      if (hits.length === 1) this.say(place ? t("The nearest provider to {place}.", { place: place }) : t("The nearest provider."));
      else this.say(place ? t("The {count} nearest providers to {place}.", { count: count, place: place }) : t("The {count} nearest providers.", { count: count }));
      var self = this;
      this.list.replaceChildren.apply(this.list, hits.map(function (hit) {
        var p = hit.provider;
        var location = hit.location || {};
        var distance = hit.remote ? t("Telehealth") : typeof hit.distance === "number" ? t("{distance} mi", { distance: self.figure(hit.distance, 1) }) : "";
        return el("li", {}, [
          el("div", { class: "row" }, [
            el("a", { href: self.link(p), target: "_top", text: p.name }),
            el("span", { class: "distance", text: distance }),
          ]),
          el("p", { class: "muted", text: [location.city, location.state].filter(Boolean).join(", ") + (location.open_now ? " · " + t("Open now") : "") }),
          p.verified ? el("p", { class: "verified", text: t("✓ Verified against the NPI registry") }) : null,
          p.accepts_consultation_requests ? self.consultButton(p) : null,
        ]);
      }));
    }
  }

  // "Request a free consultation" inside the finder: the same API as the directory's own page, with
  // the site's browser key (the partner is counted; the person's details go to the clinic only).
  ProviderFinder.prototype.consultButton = function (p) {
    var self = this;
    var holder = el("div", {}, []);
    var open = el("button", { type: "button", class: "secondary", text: this.t("Request a free consultation"), "aria-expanded": "false" });
    open.addEventListener("click", function () {
      open.setAttribute("aria-expanded", "true");
      open.hidden = true;
      holder.replaceChildren(self.consultForm(p));
      holder.querySelector("input").focus();
    });
    holder.appendChild(open);
    return holder;
  };

  ProviderFinder.prototype.consultForm = function (p) {
    var t = this.t.bind(this);
    var lang = this.language;
    var key = this.getAttribute("key") || "";
    var base = ORIGIN + "/v1/providers/" + encodeURIComponent(p.id);
    var query = key ? "?key=" + encodeURIComponent(key) : "";
    var token = null;
    fetch(base + "/consultation-form" + query, { headers: { Accept: "application/json", "Accept-Language": lang }, credentials: "omit", mode: "cors" })
      .then(function (response) { return response.json(); })
      .then(function (body) { token = body.form_token; })
      .catch(function () { token = null; });
    var id = "pf-" + p.id.slice(0, 8);
    function input(name, label, attributes) {
      var control = el(name === "message" ? "textarea" : "input", Object.assign({ id: id + "-" + name, name: name }, attributes || {}), []);
      return el("label", { for: id + "-" + name }, [label, control]);
    }
    var status = el("p", { class: "status", role: "status" }, []);
    var form = el("form", { class: "consult", novalidate: "" }, [
      el("p", { class: "muted", text: t("{name} will contact you about a free first consultation. No account needed.", { name: p.name }) }, []),
      input("name", t("Your name"), { autocomplete: "name", maxlength: "100" }),
      input("phone", t("Phone"), { type: "tel", autocomplete: "tel", maxlength: "20" }),
      input("email", t("Email"), { type: "email", autocomplete: "email", maxlength: "254" }),
      el("label", { for: id + "-preferred" }, [t("How should the clinic contact you?"), el("select", { id: id + "-preferred", name: "preferred_contact" }, [
        el("option", { value: "either", text: t("By phone or email") }, []), el("option", { value: "phone", text: t("By phone") }, []), el("option", { value: "email", text: t("By email") }, []),
      ])]),
      input("preferred_time", t("Best time to reach you (optional)"), { maxlength: "100" }),
      input("message", t("A short note (optional; nothing about your health, please)"), { rows: "2", maxlength: "500" }),
      el("div", { class: "trap", "aria-hidden": "true" }, [el("input", { name: "website", tabindex: "-1", autocomplete: "off" }, [])]),
      el("label", { class: "check", for: id + "-consent" }, [el("input", { type: "checkbox", id: id + "-consent", name: "consent" }, []),
        t("I agree that this request is sent to {name}. It is deleted after 90 days.", { name: p.name })]),
      el("button", { type: "submit", text: t("Send the request") }, []),
      status,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = form.elements;
      var body = {
        name: f.name.value.trim(), phone: f.phone.value.trim() || null, email: f.email.value.trim() || null,
        preferred_contact: f.preferred_contact.value, preferred_time: f.preferred_time.value.trim() || null,
        message: f.message.value.trim() || null, consent: f.consent.checked, website: f.website.value || null, form_token: token,
      };
      if (!body.name || (!body.phone && !body.email) || !body.consent) {
        status.textContent = !body.name ? t("Please give your name.") : !body.consent ? t("Please tick the box to send the request.") : t("Please give a phone number or an email address.");
        return;
      }
      fetch(base + "/consultation-requests" + query, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": lang }, body: JSON.stringify(body), credentials: "omit", mode: "cors",
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) { return { status: response.status, answer: answer }; });
        })
        .then(function (result) {
          if (result.status === 202) {
            form.replaceChildren(el("p", { class: "status", role: "status", text: t("Sent. {name} will contact you. Your reference: {reference}.", { name: p.name, reference: result.answer.reference }) }, []));
            return;
          }
          var first = result.answer.errors && result.answer.errors[0];
          status.textContent = result.status === 429 ? t("Too many requests from here in the last hour. Please try later, or call the clinic.")
            : first ? first.reason : (result.answer.detail || t("The request could not be sent."));
        })
        .catch(function () { status.textContent = t("The directory could not be reached. Please try again."); });
    });
    return form;
  };

  window.customElements.define("provider-finder", ProviderFinder);
})();
