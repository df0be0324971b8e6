// The composer: writing, replying to and editing messages, sending them optimistically
// with a fresh clientId and settling them by their ack, and the actions on each message.

import { clearAttachments } from "./attachments.js";
import { applyMessage, conversation, renderOne, scrollToBottom } from "./conversation.js";
import { displayName } from "./dom.js";
import { MentionBox } from "./mentions.js";
import { emitAck } from "./socket.js";
import { limits, me, state, ui } from "./state.js";
import { bestStatus } from "./store.js";
import { openReport } from "./report.js";
import { noteTyping, sendTypingStop } from "./typing.js";

/** A v4 UUID: crypto.randomUUID where available (secure contexts), else from getRandomValues. */
function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let mentions = null;

/** The composer's error line (empty to clear it). */
export function showComposerError(text) {
  ui.composerError.textContent = text || "";
}

function setContext(text) {
  ui.contextText.textContent = text;
  ui.context.hidden = !text;
}

/** Leave reply or edit mode. */
export function cancelContext() {
  const wasEditing = Boolean(state.editing);
  state.replyTo = null;
  state.editing = null;
  setContext("");
  ui.composer.classList.remove("is-editing");
  ui.sendBtn.textContent = "Send";
  if (wasEditing) ui.input.value = "";
}

function startReply(msg) {
  cancelContext();
  state.replyTo = msg;
  const snippet = (msg.content || "").slice(0, 80);
  setContext(`Replying to ${msg.userId === me.id ? "yourself" : displayName(msg.user)}: ${snippet}`);
  ui.input.focus();
}

function startEdit(msg) {
  cancelContext();
  state.editing = msg;
  setContext("Editing your message");
  ui.composer.classList.add("is-editing");
  ui.sendBtn.textContent = "Save";
  ui.input.value = msg.content || "";
  ui.input.focus();
  ui.input.setSelectionRange(ui.input.value.length, ui.input.value.length);
}

/** Send what the composer holds as a new message, shown at once as "sending". */
function sendNew() {
  const threadId = state.openId;
  const thread = threadId && state.threads.get(threadId);
  if (!thread || thread.isArchived) return;
  const content = ui.input.value;
  const hasText = content.trim().length > 0;
  if (!hasText && !state.attachments.length) {
    showComposerError("Write a message or attach something first.");
    return;
  }
  if (content.length > limits.content) {
    showComposerError(`A message is at most ${limits.content} characters.`);
    return;
  }
  if (state.uploading) {
    showComposerError("Wait for the upload to finish.");
    return;
  }
  const clientId = newClientId();
  const payload = { clientId, threadId, content: hasText ? content : "" };
  if (state.replyTo && state.replyTo.id) payload.parentId = state.replyTo.id;
  if (state.attachments.length) {
    payload.attachments = state.attachments.map((a) =>
      a.kind === "link" ? { type: "link", url: a.url } : { id: a.attachment.id },
    );
  }
  const local = {
    clientId,
    threadId,
    content: payload.content,
    parentId: payload.parentId || null,
    userId: me.id,
    user: meSummary(thread),
    createdAt: new Date().toISOString(),
    status: "sending",
    mentions: [],
    metadata: {},
    attachments: state.attachments.map((a) =>
      a.kind === "link" ? { type: "link", url: a.url, metadata: {} } : a.attachment,
    ),
    _payload: payload,
  };
  const conv = conversation(threadId);
  const { msg } = conv.upsert(local);
  ui.input.value = "";
  cancelContext();
  clearAttachments();
  sendTypingStop();
  showComposerError("");
  renderOne(msg);
  scrollToBottom();
  deliver(msg);
}

function meSummary(thread) {
  const found = (thread.participants || []).find((u) => u.id === me.id);
  return found || { id: me.id, username: me.username };
}

/** Send (or resend, with the same clientId) an optimistic message; its ack settles it. */
async function deliver(msg) {
  const conv = conversation(msg.threadId);
  msg.status = bestStatus(msg.status === "failed" ? "sending" : msg.status, "sending");
  msg._error = null;
  msg._blocked = false;
  renderOne(msg);
  msg._inflight = true;
  const ack = await emitAck("message:send", msg._payload);
  msg._inflight = false;
  if (ack.ok && ack.message) {
    applyMessage(ack.message, true);
  } else if (ack.error && ack.error.code === "blocked" && !msg.id) {
    refuse(msg, ack.error);
  } else {
    msg.status = bestStatus(msg.status, "failed");
    if (msg.status === "failed") {
      const e = ack.error || {};
      msg._error =
        e.code === "timeout"
          ? "No answer from the server."
          : e.code === "thread_archived"
            ? "The thread is archived."
            : e.message || "Not sent.";
    }
    conv.upsert(msg);
    renderOne(msg);
  }
}

/**
 * The server refused the message for what it says (watched words): nothing was stored. The
 * bubble stays, failed, with the server's own reason (and in the composer's error line); its
 * "Edit and resend" button brings the text back to the composer. Retrying as is would be
 * refused again, so it offers no Retry.
 */
function refuse(msg, error) {
  const conv = conversation(msg.threadId);
  msg.status = "failed";
  msg._blocked = true;
  msg._error = error.message || "This message was refused.";
  conv.upsert(msg);
  renderOne(msg);
  if (state.openId === msg.threadId) showComposerError(msg._error);
}

/** Take a refused message back into the composer to change it (its bubble goes). */
function revise(msg) {
  const conv = conversation(msg.threadId);
  conv.remove(msg._key);
  const li = state.nodes.get(msg._key);
  if (li) li.remove();
  state.nodes.delete(msg._key);
  cancelContext();
  if (msg.parentId) {
    const parent = conv.get(msg.parentId);
    if (parent) startReply(parent);
  }
  ui.input.value = msg.content || "";
  showComposerError("");
  ui.input.focus();
}

/** After a reconnect, give messages still marked "sending" (and not in flight) another go. */
export function resendStuck() {
  for (const conv of state.convs.values()) {
    for (const m of conv.sorted()) {
      if (m.status === "sending" && m._payload && !m._inflight) deliver(m);
    }
  }
}

async function saveEdit() {
  const msg = state.editing;
  const content = ui.input.value;
  if (!content.trim() && !(msg.attachments || []).length) {
    showComposerError("A message cannot be empty: delete it instead.");
    return;
  }
  if (content === msg.content) {
    cancelContext();
    return;
  }
  ui.sendBtn.disabled = true;
  const ack = await emitAck("message:edit", { messageId: msg.id, content });
  ui.sendBtn.disabled = false;
  if (ack.ok && ack.message) {
    applyMessage(ack.message, false);
    cancelContext();
  } else {
    const e = ack.error || {};
    // A refused edit (e.g. `blocked`) shows the server's own words; the text stays to be fixed.
    showComposerError(e.code === "blocked" ? e.message : `Could not save the edit: ${e.message || "no answer"}`);
  }
}

async function deleteMessage(msg) {
  state.confirmDelete = null;
  const ack = await emitAck("message:delete", { messageId: msg.id });
  if (ack.ok && ack.message) {
    applyMessage(ack.message, false);
    ui.input.focus();
  } else {
    renderOne(msg);
    showComposerError(`Could not delete: ${(ack.error && ack.error.message) || "no answer"}`);
  }
}

let confirmTimer = null;

/** Listen to the composer (keys, submit, @mentions) and to the messages' action buttons. */
export function init() {
  mentions = new MentionBox(ui.input, ui.mentionList, () => {
    const t = state.threads.get(state.openId);
    return t ? (t.participants || []).filter((u) => u.id !== me.id) : [];
  });

  ui.contextCancel.addEventListener("click", () => {
    cancelContext();
    ui.input.focus();
  });

  ui.input.addEventListener("keydown", (evt) => {
    if (evt.isComposing) return;
    if (mentions.handleKey(evt)) {
      evt.preventDefault();
      return;
    }
    if (evt.key === "Enter" && !evt.shiftKey) {
      evt.preventDefault();
      ui.composer.requestSubmit();
    } else if (evt.key === "Escape" && (state.replyTo || state.editing)) {
      evt.preventDefault();
      cancelContext();
    }
  });
  ui.input.addEventListener("input", () => {
    showComposerError("");
    if (ui.input.value) noteTyping();
  });

  ui.composer.addEventListener("submit", (evt) => {
    evt.preventDefault();
    if (state.editing) {
      saveEdit();
    } else {
      sendNew();
    }
  });

  ui.messages.addEventListener("click", (evt) => {
    const target = evt.target.closest("[data-action]");
    if (!target) return;
    const li = target.closest("li[data-key]");
    const conv = state.convs.get(state.openId);
    const msg = li && conv && conv.getByKey(li.dataset.key);
    if (!msg) return;
    const action = target.dataset.action;
    if (action === "goto-parent") {
      evt.preventDefault();
      const parent = document.getElementById(`m-${target.dataset.parentId}`);
      if (parent) {
        parent.scrollIntoView({ block: "center" });
        parent.classList.add("is-target");
        setTimeout(() => parent.classList.remove("is-target"), 2000);
      }
    } else if (action === "retry") {
      deliver(msg);
    } else if (action === "reply") {
      startReply(msg);
    } else if (action === "edit") {
      startEdit(msg);
    } else if (action === "delete") {
      state.confirmDelete = msg._key;
      renderOne(msg);
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(() => {
        if (state.confirmDelete === msg._key) {
          state.confirmDelete = null;
          renderOne(msg);
        }
      }, 5000);
    } else if (action === "confirm-delete") {
      deleteMessage(msg);
    } else if (action === "revise") {
      revise(msg);
    } else if (action === "report") {
      openReport(msg);
    }
  });
}
