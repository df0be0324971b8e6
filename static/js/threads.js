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
  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.elt.id !== "filters" || evt.detail.verb !== "get") return;
    var params = evt.detail.parameters;
    var defaults = { state: "active", sort: "activity" };
    ["state", "q", "participant", "creator", "created_from", "created_to", "active_from",
     "active_to", "sort"].forEach(function (name) {
      var value = params[name];
      if (value === "" || value === undefined || value === defaults[name]) delete params[name];
    });
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
