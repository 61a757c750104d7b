/* <provider-finder>: the directory's finder for partner sites.
 *
 *   <script src="https://directory.example/embed.js" async></script>
 *   <provider-finder condition="ptsd" near="auto" key="pk_..."></provider-finder>
 *
 * Attributes: condition (a code or another name: ptsd, depression, CRPS), near ("auto" asks the
 * browser for the visitor's location; or a ZIP code, a city, an address), key (a browser key of
 * the directory, bound to your site's origins), radius (miles, default 25), limit (1-20, default 5),
 * link (a URL template for each result, with {slug} and {id}; by default the listing on the
 * directory), heading.
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
      return ["condition", "near", "key", "radius", "limit", "link", "heading"];
    }

    constructor() {
      super();
      this.number = ++count;
      var root = this.attachShadow({ mode: "open" });
      var id = "pf-" + this.number;
      this.heading = el("h2", { id: id + "-h" });
      this.input = el("input", { id: id + "-near", type: "text", autocomplete: "postal-code", placeholder: "ZIP code or city" });
      this.form = el("form", { role: "search", "aria-labelledby": id + "-h" }, [
        el("label", { for: id + "-near" }, ["Near", this.input]),
        el("button", { type: "submit", text: "Find" }),
      ]);
      this.status = el("p", { class: "status", role: "status", "aria-live": "polite" });
      this.list = el("ol", { "aria-labelledby": id + "-h" });
      this.credit = el("p", { class: "credit muted" }, ["Listings from ", el("a", { href: ORIGIN + "/", target: "_blank", rel: "noopener", text: "the infusion provider directory" })]);
      root.append(el("style", { text: STYLE }), el("section", { "aria-labelledby": id + "-h" }, [this.heading, this.form, this.status, this.list, this.credit]));
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

    start() {
      this.started = true;
      this.heading.textContent = this.getAttribute("heading") || "Find a provider near you";
      var near = (this.getAttribute("near") || "").trim();
      if (near && near !== "auto") {
        this.input.value = near;
        this.find({ near: near });
      } else if (near === "auto" && navigator.geolocation) {
        var self = this;
        this.say("Finding your location…");
        navigator.geolocation.getCurrentPosition(
          function (position) {
            self.find({ lat: position.coords.latitude.toFixed(4), lon: position.coords.longitude.toFixed(4) });
          },
          function () {
            self.say("Type a ZIP code or a city to see providers near you.");
          },
          { timeout: 8000, maximumAge: 600000 }
        );
      } else {
        this.say("Type a ZIP code or a city to see providers near you.");
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
      return ORIGIN + "/providers/" + encodeURIComponent(provider.slug);
    }

    find(place) {
      if (!place.near && !place.lat) {
        this.say("Type a ZIP code or a city to see providers near you.");
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
      this.say("Searching…");
      this.list.replaceChildren();
      fetch(url.toString(), { headers: { Accept: "application/json" }, credentials: "omit", mode: "cors" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (answer) {
          if (ticket !== self.ticket) return;
          if (!answer.ok) {
            var problem = answer.body || {};
            var message = answer.status === 403 || answer.status === 401
              ? "This finder is not set up for this site. (" + (problem.detail || "the directory refused its key") + ")"
              : problem.detail || "The directory could not answer (" + answer.status + ").";
            self.say(message, true);
            return;
          }
          self.show(answer.body);
        })
        .catch(function () {
          if (ticket === self.ticket) self.say("The directory could not be reached, or does not allow this site.", true);
        });
    }

    show(answer) {
      var hits = answer.items || [];
      var where = answer.place && answer.place.label ? " of " + answer.place.label : "";
      if (!hits.length) {
        this.say("No providers within " + answer.radius + " mi" + where + ". Try a wider area or another place.");
        return;
      }
      this.say(hits.length + " nearest provider" + (hits.length === 1 ? "" : "s") + where + ".");
      var self = this;
      this.list.replaceChildren.apply(this.list, hits.map(function (hit) {
        var p = hit.provider;
        var location = hit.location || {};
        var distance = hit.remote ? "Telehealth" : typeof hit.distance === "number" ? hit.distance.toFixed(1) + " mi" : "";
        return el("li", {}, [
          el("div", { class: "row" }, [
            el("a", { href: self.link(p), target: "_top", text: p.name }),
            el("span", { class: "distance", text: distance }),
          ]),
          el("p", { class: "muted", text: [location.city, location.state].filter(Boolean).join(", ") + (location.open_now ? " · Open now" : "") }),
          p.verified ? el("p", { class: "verified", text: "✓ Verified against the NPI registry" }) : null,
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
    var open = el("button", { type: "button", class: "secondary", text: "Request a free consultation", "aria-expanded": "false" });
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
    var key = this.getAttribute("key") || "";
    var base = ORIGIN + "/v1/providers/" + encodeURIComponent(p.id);
    var query = key ? "?key=" + encodeURIComponent(key) : "";
    var token = null;
    fetch(base + "/consultation-form" + query, { headers: { Accept: "application/json" }, credentials: "omit", mode: "cors" })
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
      el("p", { class: "muted", text: p.name + " will contact you about a free first consultation. No account needed." }, []),
      input("name", "Your name", { autocomplete: "name", maxlength: "100" }),
      input("phone", "Phone", { type: "tel", autocomplete: "tel", maxlength: "20" }),
      input("email", "Email", { type: "email", autocomplete: "email", maxlength: "254" }),
      el("label", { for: id + "-preferred" }, ["How should the clinic contact you?", el("select", { id: id + "-preferred", name: "preferred_contact" }, [
        el("option", { value: "either", text: "By phone or email" }, []), el("option", { value: "phone", text: "By phone" }, []), el("option", { value: "email", text: "By email" }, []),
      ])]),
      input("preferred_time", "Best time to reach you (optional)", { maxlength: "100" }),
      input("message", "A short note (optional; nothing about your health, please)", { rows: "2", maxlength: "500" }),
      el("div", { class: "trap", "aria-hidden": "true" }, [el("input", { name: "website", tabindex: "-1", autocomplete: "off" }, [])]),
      el("label", { class: "check", for: id + "-consent" }, [el("input", { type: "checkbox", id: id + "-consent", name: "consent" }, []),
        "I agree that this request is sent to " + p.name + ". It is deleted after 90 days."]),
      el("button", { type: "submit", text: "Send the request" }, []),
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
        status.textContent = !body.name ? "Please give your name." : !body.consent ? "Please tick the box to send the request." : "Please give a phone number or an email address.";
        return;
      }
      fetch(base + "/consultation-requests" + query, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body), credentials: "omit", mode: "cors",
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) { return { status: response.status, answer: answer }; });
        })
        .then(function (result) {
          if (result.status === 202) {
            form.replaceChildren(el("p", { class: "status", role: "status", text: "Sent. " + p.name + " will contact you. Your reference: " + result.answer.reference + "." }, []));
            return;
          }
          var first = result.answer.errors && result.answer.errors[0];
          status.textContent = result.status === 429 ? "Too many requests from here in the last hour. Please try later, or call the clinic."
            : first ? first.reason : (result.answer.detail || "The request could not be sent.");
        })
        .catch(function () { status.textContent = "The directory could not be reached. Please try again."; });
    });
    return form;
  };

  window.customElements.define("provider-finder", ProviderFinder);
})();
