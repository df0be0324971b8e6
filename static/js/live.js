// Live dashboard: connects to the /live namespace (staff only; same origin, session cookie) and
// re-dispatches each server event as a DOM event on <body>, so htmx partials can refresh with
// hx-trigger="live:presence from:body" (and live:report, live:thread, live:activity).
// Socket.IO reconnects on its own after a dropped connection; a refused (non-staff) connection
// stays quiet.
(function () {
  "use strict";

  var EVENTS = {
    presence: "live:presence",
    "presence:snapshot": "live:presence",
    "report:new": "live:report",
    "thread:updated": "live:thread",
    activity: "live:activity",
  };

  function dispatch(name, detail) {
    if (!document.body) return;
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  function start() {
    if (!window.io || window.chatdeskLive) return;
    var socket = window.io("/live", { withCredentials: true });
    Object.keys(EVENTS).forEach(function (event) {
      socket.on(event, function (payload) {
        dispatch(EVENTS[event], payload);
      });
    });
    socket.on("connect", function () {
      document.body.dataset.live = "connected";
      dispatch("live:connected", {});
    });
    socket.on("disconnect", function () {
      document.body.dataset.live = "disconnected";
    });
    window.chatdeskLive = socket;
  }

  if (window.io) {
    start();
  } else {
    // The socket.io client may come later in the page (deferred scripts run in order).
    document.addEventListener("DOMContentLoaded", start);
    window.addEventListener("load", start);
  }
})();
