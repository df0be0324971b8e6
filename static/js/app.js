// Dashboard glue: toasts from HX-Trigger, the confirm dialog, error toasts, focus after swaps.
// No inline scripts anywhere (strict CSP): every behaviour hangs off data- attributes here.
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.textContent = String(message); // text, never HTML
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  // htmx 2: HX-Trigger {"toast": "text"} dispatches "toast" with detail {value: "text"};
  // {"toast": {"message": "text"}} gives detail.message. A plain CustomEvent may pass a string.
  document.addEventListener("toast", function (evt) {
    var d = evt.detail;
    if (typeof d === "string") return toast(d);
    d = d || {};
    toast(typeof d.value === "string" ? d.value : d.message, d.kind);
  });

  // Errors htmx does not swap (5xx, network): say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || [400, 403, 404, 409, 422].indexOf(xhr.status) !== -1) return;
    toast("The server answered " + xhr.status + ". Try again in a moment.", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. Check the connection and try again.", "error");
  });

  // The confirm step: elements with data-confirm ask in a <dialog> before they act.
  var dialog = null;
  var pending = null;
  function ask(text, onOk, opener) {
    dialog = dialog || document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { onOk(); return; }
    document.getElementById("confirm-text").textContent = text;
    pending = { ok: onOk, opener: opener };
    dialog.showModal();
    dialog.querySelector("[data-confirm-ok]").focus();
  }
  function close(confirmed) {
    if (!dialog || !pending) return;
    var p = pending;
    pending = null;
    dialog.close();
    if (p.opener && p.opener.focus) p.opener.focus();
    if (confirmed) p.ok();
  }
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-confirm-ok]")) close(true);
    else if (evt.target.closest("[data-confirm-cancel]")) close(false);
  });
  document.addEventListener("cancel", function (evt) {
    if (evt.target.id === "confirm-dialog") { evt.preventDefault(); close(false); }
  }, true);

  // htmx requests: hold them until the dialog is confirmed.
  document.addEventListener("htmx:confirm", function (evt) {
    var elt = evt.detail.elt;
    // A live refresh must not wipe a form someone is filling in (the next event catches up).
    var active = document.activeElement;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-keep-while-editing") && active &&
        elt.contains(active) && active.matches("input, select, textarea")) {
      evt.preventDefault();
      return;
    }
    var text = elt && elt.getAttribute && elt.getAttribute("data-confirm");
    if (!text) return;
    evt.preventDefault();
    var form = elt.tagName === "FORM" ? elt : elt.closest("form");
    if (form && typeof form.reportValidity === "function" && !form.reportValidity()) return;
    ask(text, function () { evt.detail.issueRequest(true); }, form && form.querySelector("[type=submit]"));
  });

  // Plain forms (no htmx): the same dialog, then a real submit.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var text = form.getAttribute("data-confirm");
    if (!text || form.hasAttribute("hx-post") || form.dataset.confirmed === "1") return;
    evt.preventDefault();
    ask(text, function () { form.dataset.confirmed = "1"; form.requestSubmit(); }, evt.submitter);
  });

  // After htmx swaps in an inline error, move focus to its field so keyboard users hear it.
  document.addEventListener("htmx:afterSettle", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    var err = document.querySelector("form .form-error[role=alert], .error-fragment[role=alert]");
    if (!err) return;
    var form = err.closest("form");
    var field = (err.id && document.querySelector("[aria-describedby~='" + err.id + "']")) ||
      (form && form.querySelector("[aria-invalid=true]"));
    var target = field || err;
    if (!field) target.setAttribute("tabindex", "-1");
    target.focus();
  });

  // The reports queue: choosing what to do with a report moves straight to its reason.
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (!t.matches || !t.matches(".resolve-form input[name=action]")) return;
    var note = t.form && t.form.querySelector("input[name=note]");
    if (note) note.focus();
  });

  // A chart too wide for a phone scrolls in its own box: start at the newest days (the right).
  function scrollChartsToNewest() {
    Array.prototype.forEach.call(document.querySelectorAll(".chart-scroll"), function (box) {
      box.scrollLeft = box.scrollWidth;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollChartsToNewest);
  } else {
    scrollChartsToNewest();
  }

  window.chatdeskToast = toast;
})();
