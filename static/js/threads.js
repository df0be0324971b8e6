// Threads list and thread page: select-all, the selection count, the bulk panel, 422 swaps.
// Loaded with defer; no inline scripts (strict CSP).
(function () {
  "use strict";

  function rowChecks() {
    return Array.prototype.slice.call(document.querySelectorAll("input.row-check"));
  }

  function updateCount() {
    var out = document.getElementById("selected-count");
    var all = document.getElementById("select-all");
    var boxes = rowChecks();
    var n = boxes.filter(function (b) { return b.checked; }).length;
    if (out) out.textContent = n ? n + " selected" : "";
    if (all) {
      all.checked = boxes.length > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }

  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (t.id === "select-all") {
      rowChecks().forEach(function (b) { b.checked = t.checked; });
      updateCount();
    } else if (t.classList && t.classList.contains("row-check")) {
      updateCount();
    } else if (t.id === "f-state") {
      // Looking at archived threads, the likely bulk action is to unarchive them.
      var action = document.getElementById("bulk-action");
      if (action) action.value = t.value === "archived" ? "unarchive" : "archive";
    }
  });

  document.addEventListener("click", function (evt) {
    var cancel = evt.target.closest && evt.target.closest("[data-bulk-cancel]");
    if (!cancel) return;
    var panel = document.getElementById("bulk-panel");
    if (panel) {
      evt.preventDefault();
      panel.innerHTML = "";
      var reason = document.getElementById("bulk-reason");
      if (reason) reason.focus();
    }
  });

  // After a bulk action: empty the confirm panel and the selection.
  document.addEventListener("threads:bulk-done", function () {
    var panel = document.getElementById("bulk-panel");
    if (panel) panel.innerHTML = "";
    var reason = document.getElementById("bulk-reason");
    if (reason) reason.value = "";
    updateCount();
  });

  // Keep pushed filter URLs short: leave out empty filters and the defaults.
  var FILTERS = ["state", "q", "participant", "creator", "created_from", "created_to",
                 "active_from", "active_to", "sort"];
  var DEFAULTS = { state: "active", sort: "activity" };
  function shortFilters(get) {
    var out = [];
    FILTERS.forEach(function (name) {
      var value = get(name);
      if (value === "" || value === undefined || value === null || value === DEFAULTS[name]) return;
      out.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
    });
    return out.join("&");
  }
  function formQuery(form) {
    var data = new FormData(form);
    return shortFilters(function (name) { return data.get(name); });
  }
  function urlQuery() {
    var params = new URLSearchParams(window.location.search);
    return shortFilters(function (name) { return params.get(name); });
  }
  // The filters the rows on screen were loaded with: a trigger that would load the same ones
  // again (leaving a field after its debounced input already filtered) sends nothing.
  var shownQuery = null;
  function noteShown() { shownQuery = document.getElementById("filters") ? urlQuery() : null; }
  noteShown();
  document.addEventListener("htmx:historyRestore", noteShown);

  document.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt;
    if (!form || form.id !== "filters" || evt.detail.verb !== "get") return;
    var trigger = evt.detail.triggeringEvent;
    if (trigger && trigger.type === "submit") return; // "Apply filters" always reloads
    if (shownQuery !== null && formQuery(form) === shownQuery) evt.preventDefault();
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.elt.id !== "filters" || evt.detail.verb !== "get") return;
    var params = evt.detail.parameters;
    FILTERS.forEach(function (name) {
      var value = params[name];
      if (value === "" || value === undefined || value === DEFAULTS[name]) delete params[name];
    });
    shownQuery = formQuery(evt.detail.elt);
  });

  // Show the inline error fragments htmx would otherwise drop (422 = a form error).
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr && evt.detail.xhr.status;
    if (status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    updateCount();
    var t = evt.detail.target;
    if (!t) return;
    // Put focus where the user's attention goes: the confirm button, or a field in error.
    if (t.id === "bulk-panel") {
      var focusable = t.querySelector(".confirm-bulk") || t.querySelector("[role=alert]");
      if (focusable) {
        if (!focusable.hasAttribute("tabindex") && focusable.tagName !== "BUTTON") focusable.setAttribute("tabindex", "-1");
        focusable.focus();
      }
    }
  });

  function scrollToTarget() {
    var target = document.querySelector(".message.is-target");
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { updateCount(); scrollToTarget(); });
  } else {
    updateCount();
    scrollToTarget();
  }
})();
