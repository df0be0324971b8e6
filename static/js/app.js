// Dashboard glue: toasts from HX-Trigger, focus after swaps. No inline scripts (strict CSP).
(function () {
  "use strict";
  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = message; // text, never HTML
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  document.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    toast(typeof d === "string" ? d : d.value || d.message);
  });
  window.chatdeskToast = toast;
})();
