// Dashboard keyboard use: "/" focuses the page's search field (or opens Search), "j" / "k"
// move through the list's rows, Enter opens the current row, "?" shows the keys (Esc closes).
// Keys are ignored while typing in a field, with a modifier held, or while a dialog is open.
(function () {
  "use strict";

  var ROWS = "main tbody tr, main .search-hit, main .message-list > li, main .chips > li";
  var SKIP = ".load-more, .load-more-row, .empty-row, .errors-row";
  var current = null;

  function typing(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(el.type) === -1;
  }

  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll(ROWS), function (r) {
      return !r.matches(SKIP) && r.querySelector("a[href]") && r.offsetParent !== null;
    });
  }

  function select(row) {
    if (current) current.classList.remove("is-kbd-current");
    current = row;
    row.classList.add("is-kbd-current");
    if (!row.hasAttribute("tabindex")) row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.indexOf(current);
    if (at === -1) {
      select(step > 0 ? list[0] : list[list.length - 1]);
    } else {
      select(list[Math.min(list.length - 1, Math.max(0, at + step))]);
    }
  }

  function focusSearch() {
    var field = document.querySelector("main input[type=search]");
    if (field) {
      field.focus();
      field.select();
      return;
    }
    var link = document.querySelector("nav.subnav a[data-search-link]");
    if (link) window.location.assign(link.href);
  }

  function showHelp() {
    var dialog = document.getElementById("keys-dialog");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey) return;
    if (document.querySelector("dialog[open]")) return; // the dialog has the keyboard (Esc)
    if (typing(evt.target)) return;
    var key = evt.key;
    if (key === "/") {
      evt.preventDefault();
      focusSearch();
    } else if (key === "j" || key === "k") {
      evt.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (key === "Enter" && current && evt.target === current) {
      var link = current.querySelector("a[href]");
      if (link) {
        evt.preventDefault();
        link.click();
      }
    } else if (key === "?") {
      evt.preventDefault();
      showHelp();
    }
  });

  // A row swapped out by htmx is no longer the current one.
  document.addEventListener("htmx:afterSwap", function () {
    if (current && !document.contains(current)) current = null;
  });

  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-keys-open]")) showHelp();
    if (evt.target.closest && evt.target.closest("[data-keys-close]")) {
      var dialog = document.getElementById("keys-dialog");
      if (dialog) dialog.close();
    }
  });
})();
