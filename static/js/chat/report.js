// Reporting someone else's message to the moderators: a small dialog asks for the reason,
// POST /messages/{id}/reports files it; the dialog says what went wrong, or closes and the
// page says the report was sent.

import { displayName } from "./dom.js";
import { api, state, ui } from "./state.js";

let reporting = null; // {msg, key}
let statusTimer = null;

/** A line under the conversation saying what just happened (empty to clear it). */
export function showStatus(text, kind = "ok") {
  ui.status.textContent = text || "";
  ui.status.dataset.kind = kind;
  clearTimeout(statusTimer);
  if (text) statusTimer = setTimeout(() => showStatus(""), 8000);
}

/** Open the dialog for a message (never one's own: render.js offers no button for those). */
export function openReport(msg) {
  reporting = { msg, key: msg._key, threadId: msg.threadId };
  const who = displayName(msg.user);
  const excerpt = (msg.content || "").slice(0, 200) || "(attachments only)";
  ui.reportQuote.textContent = `${who}: ${excerpt}`;
  ui.reportReason.value = "";
  ui.reportError.textContent = "";
  ui.reportSend.disabled = false;
  ui.reportDialog.showModal();
  ui.reportReason.focus();
}

function returnFocus() {
  if (!reporting || reporting.threadId !== state.openId) return;
  const li = state.nodes.get(reporting.key);
  const btn = li && li.querySelector('[data-action="report"]');
  if (btn) btn.focus();
}

async function submit(evt) {
  evt.preventDefault();
  if (!reporting) return;
  const reason = ui.reportReason.value.trim();
  if (!reason) {
    ui.reportError.textContent = "Write a reason first: it tells the moderators what is wrong.";
    ui.reportReason.focus();
    return;
  }
  ui.reportSend.disabled = true;
  ui.reportError.textContent = "";
  try {
    await api.post(`/messages/${encodeURIComponent(reporting.msg.id)}/reports`, { reason });
  } catch (err) {
    ui.reportError.textContent = `The report was not sent: ${err.message}`;
    ui.reportSend.disabled = false;
    ui.reportReason.focus();
    return;
  }
  ui.reportDialog.close();
  showStatus("Report sent. A moderator will look at it. Thank you.");
}

/** Listen to the report dialog. */
export function init() {
  ui.reportForm.addEventListener("submit", submit);
  ui.reportCancel.addEventListener("click", () => ui.reportDialog.close());
  // `close` comes as a task of its own: the dialog may have been opened again meanwhile.
  ui.reportDialog.addEventListener("close", () => {
    if (ui.reportDialog.open) return;
    returnFocus();
    reporting = null;
  });
}
