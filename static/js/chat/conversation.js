// The open conversation: opening and closing a thread, loading its pages, drawing its
// messages (in full or one at a time, keeping focus and the scroll position), and merging
// every message the server sends.

import { clearAttachments } from "./attachments.js";
import { cancelContext, showComposerError } from "./composer.js";
import { clear, displayName, el } from "./dom.js";
import { markDelivered, markRead, pageVisible } from "./receipts.js";
import { renderMessage } from "./render.js";
import { api, me, PAGE_SIZE, root, state, ui } from "./state.js";
import { Conversation } from "./store.js";
import { removeThread, renderThreadList, threadLabel, upsertThread } from "./threads.js";
import { renderTyping, sendTypingStop } from "./typing.js";

/** The store of one thread's messages, made on first use. */
export function conversation(threadId) {
  let conv = state.convs.get(threadId);
  if (!conv) {
    conv = new Conversation(threadId);
    state.convs.set(threadId, conv);
  }
  return conv;
}

/** Show a thread: its header, composer state and newest page; mark it read. */
export async function openThread(threadId, { focus = true } = {}) {
  if (!state.threads.has(threadId)) {
    try {
      upsertThread(await api.get(`/threads/${encodeURIComponent(threadId)}`));
    } catch {
      ui.convEmpty.textContent = "That thread does not exist, or you are not in it.";
      return;
    }
  }
  if (state.openId !== threadId) {
    sendTypingStop();
    cancelContext();
    clearAttachments();
    ui.input.value = "";
  }
  state.openId = threadId;
  state.nodes.clear();
  clearUnseen();
  state.confirmDelete = null;
  if (location.hash !== `#thread=${threadId}`) history.replaceState(null, "", `#thread=${threadId}`);
  root.classList.add("is-open");
  ui.convEmpty.hidden = true;
  ui.conversation.hidden = false;
  renderHeader();
  renderComposerState();
  renderTyping();
  const thread = state.threads.get(threadId);
  thread.unreadCount = 0;
  renderThreadList();
  const conv = conversation(threadId);
  renderConversation(true);
  if (!conv.loaded) await loadNewest(threadId);
  if (state.openId !== threadId) return;
  renderConversation(true);
  markRead();
  if (focus && !thread.isArchived) ui.input.focus({ preventScroll: true });
}

/** Back to the list (on a phone) with no thread open. */
export function closeThread() {
  sendTypingStop();
  state.openId = null;
  clearUnseen();
  root.classList.remove("is-open");
  ui.conversation.hidden = true;
  ui.convEmpty.hidden = false;
  history.replaceState(null, "", location.pathname + location.search);
  renderThreadList();
}

/** The newest page of a thread, merged into what we hold. */
export async function loadNewest(threadId) {
  const conv = conversation(threadId);
  try {
    const data = await api.get(`/threads/${encodeURIComponent(threadId)}/messages`, { limit: PAGE_SIZE });
    for (const m of data.items || []) {
      conv.upsert(m);
      state.seen.add(m.id);
    }
    if (!conv.loaded) conv.hasMoreBefore = Boolean(data.hasMoreBefore);
    conv.loaded = true;
  } catch (err) {
    if (err.status === 404) removeThread(threadId);
    return;
  }
  if (state.openId === threadId) renderConversation(false);
}

async function loadOlder() {
  const conv = state.openId && state.convs.get(state.openId);
  if (!conv || !conv.hasMoreBefore || conv.loadingOlder) return;
  const before = conv.oldestId();
  if (!before) return;
  conv.loadingOlder = true;
  ui.loadOlder.disabled = true;
  ui.loadOlder.textContent = "Loading…";
  try {
    const data = await api.get(`/threads/${encodeURIComponent(conv.threadId)}/messages`, {
      before,
      limit: PAGE_SIZE,
    });
    for (const m of data.items || []) {
      conv.upsert(m);
      state.seen.add(m.id);
    }
    conv.hasMoreBefore = Boolean(data.hasMoreBefore);
    if (state.openId === conv.threadId) {
      const fromBottom = ui.scroll.scrollHeight - ui.scroll.scrollTop;
      renderConversation(false);
      ui.scroll.scrollTop = ui.scroll.scrollHeight - fromBottom;
    }
  } catch (err) {
    showComposerError(`Could not load earlier messages: ${err.message}`);
  } finally {
    conv.loadingOlder = false;
    ui.loadOlder.disabled = false;
    ui.loadOlder.textContent = "Load earlier messages";
    ui.loadOlder.hidden = !conv.hasMoreBefore;
  }
}

// Keep the newest message in view when the composer grows (link row, reply note, a phone's
// keyboard), when an image or anything else above it grows, unless the user has scrolled up to read.
let stickToBottom = true;
// Messages from others that arrived below while the reader was scrolled up.
let unseenBelow = 0;

function renderNewMessagesButton() {
  ui.newMessages.hidden = unseenBelow === 0;
  ui.newMessages.textContent = `↓ ${unseenBelow} new message${unseenBelow === 1 ? "" : "s"}`;
}

/** Forget the "new messages" count (the reader is at the bottom, or left the thread). */
function clearUnseen() {
  if (!unseenBelow && ui.newMessages.hidden) return;
  unseenBelow = 0;
  renderNewMessagesButton();
}

/** The open thread's title and its people with their presence. */
export function renderHeader() {
  const t = state.openId && state.threads.get(state.openId);
  if (!t) return;
  ui.convTitle.textContent = threadLabel(t);
  clear(ui.convParticipants);
  const people = t.participants || [];
  people.forEach((u, i) => {
    const status = u.id === me.id ? "online" : state.presence.get(u.id) || "offline";
    const label = u.id === me.id ? "you" : status;
    ui.convParticipants.append(
      el(
        "span",
        { class: "participant" },
        el("span", {
          class: "presence-dot",
          data: { status },
          attrs: { role: "img", "aria-label": label, title: label },
        }),
        el("span", { text: u.id === me.id ? `${displayName(u)} (you)` : displayName(u) }),
      ),
    );
    if (i < people.length - 1) ui.convParticipants.append(", ");
  });
}

/** An archived thread is read-only: the composer is disabled and says why. */
export function renderComposerState() {
  const t = state.openId && state.threads.get(state.openId);
  const archived = Boolean(t && t.isArchived);
  ui.archivedNote.hidden = !archived;
  for (const c of [ui.input, ui.sendBtn, ui.attachBtn, ui.linkBtn, ui.linkInput, ui.linkAdd]) {
    c.disabled = archived;
  }
  ui.composer.classList.toggle("is-disabled", archived);
  if (archived) {
    cancelContext();
    ui.linkRow.hidden = true;
  }
}

function usernamesOf(threadId) {
  const t = state.threads.get(threadId);
  return new Set((t ? t.participants || [] : []).map((u) => u.username.toLowerCase()));
}

function renderCtx() {
  const conv = state.convs.get(state.openId);
  const t = state.threads.get(state.openId);
  return {
    meId: me.id,
    usernames: usernamesOf(state.openId),
    parentOf: (m) => conv && conv.get(m.parentId),
    archived: Boolean(t && t.isArchived),
    confirmDelete: state.confirmDelete,
  };
}

function nearBottom() {
  return ui.scroll.scrollHeight - ui.scroll.scrollTop - ui.scroll.clientHeight < 60;
}

export function scrollToBottom() {
  ui.scroll.scrollTop = ui.scroll.scrollHeight;
  stickToBottom = true;
  clearUnseen();
}

/** Rebuild the open conversation's list (keeping the focus on the same control). */
export function renderConversation(toBottom) {
  const conv = state.openId && state.convs.get(state.openId);
  if (!conv) return;
  const stick = toBottom || nearBottom();
  const focus = focusedMessageControl();
  clear(ui.messages);
  state.nodes.clear();
  const ctx = renderCtx();
  for (const msg of conv.sorted()) {
    const li = renderMessage(msg, ctx);
    state.nodes.set(msg._key, li);
    ui.messages.append(li);
  }
  ui.loadOlder.hidden = !conv.hasMoreBefore;
  ui.messages.dataset.threadId = conv.threadId;
  ui.messages.dataset.loaded = String(conv.loaded);
  if (!conv.loaded) {
    ui.messages.append(el("li", { class: "msg-placeholder muted", text: "Loading messages…" }));
  } else if (!conv.size) {
    ui.messages.append(el("li", { class: "msg-placeholder muted", text: "No messages yet. Say hello!" }));
  }
  restoreFocus(focus);
  if (stick) scrollToBottom();
}

function focusedMessageControl() {
  const a = document.activeElement;
  if (!a || !ui.messages.contains(a)) return null;
  const li = a.closest("li[data-key]");
  return li ? { key: li.dataset.key, action: a.dataset.action } : null;
}

function restoreFocus(focus) {
  if (!focus) return;
  const li = state.nodes.get(focus.key);
  if (!li) return;
  const target =
    li.querySelector(`[data-action="${focus.action}"]`) ||
    (focus.action === "delete" && li.querySelector('[data-action="confirm-delete"]')) ||
    (focus.action === "confirm-delete" && li.querySelector('[data-action="delete"]'));
  if (target) target.focus();
}

/** Insert or replace one message's element in the open conversation. */
export function renderOne(msg) {
  const conv = state.convs.get(state.openId);
  if (!conv || msg.threadId !== state.openId || !conv.loaded) return;
  const stick = nearBottom() || (msg.userId === me.id && msg.status === "sending");
  const focus = focusedMessageControl();
  const li = renderMessage(msg, renderCtx());
  const old = state.nodes.get(msg._key);
  if (!old && !stick && msg.userId !== me.id) {
    unseenBelow += 1;
    renderNewMessagesButton();
  }
  state.nodes.set(msg._key, li);
  ui.messages.querySelectorAll(".msg-placeholder").forEach((n) => n.remove());
  if (old && old.parentNode) {
    old.replaceWith(li);
  } else {
    const sorted = conv.sorted();
    const idx = sorted.findIndex((m) => m._key === msg._key);
    let next = null;
    for (let i = idx + 1; i < sorted.length && !next; i += 1) next = state.nodes.get(sorted[i]._key) || null;
    ui.messages.insertBefore(li, next && next.parentNode === ui.messages ? next : null);
  }
  // Keep id order when an optimistic message got its id behind others that arrived meanwhile.
  const sorted = conv.sorted();
  const pos = sorted.findIndex((m) => m._key === msg._key);
  const after = sorted[pos + 1] && state.nodes.get(sorted[pos + 1]._key);
  if (after && li.nextElementSibling !== after) ui.messages.insertBefore(li, after);
  // Replies quoting this message show its new text.
  if (msg.id) {
    for (const m of sorted) {
      if (m.parentId === msg.id && state.nodes.has(m._key)) {
        const child = renderMessage(m, renderCtx());
        state.nodes.get(m._key).replaceWith(child);
        state.nodes.set(m._key, child);
      }
    }
  }
  restoreFocus(focus);
  if (stick) scrollToBottom();
}

/** A message from the server (live, from a sync, or an ack): merge, count, acknowledge. */
export function applyMessage(msg, created) {
  if (!msg || !msg.threadId) return;
  const conv = conversation(msg.threadId);
  const firstSight = msg.id && !state.seen.has(msg.id);
  if (msg.id) state.seen.add(msg.id);
  const { msg: held, changed } = conv.upsert(msg);
  if (changed && msg.threadId === state.openId) renderOne(held);

  const thread = state.threads.get(msg.threadId);
  if (!thread) {
    // A thread we have not listed yet (added while we were away): fetch it.
    fetchThreadSoon(msg.threadId);
    return;
  }
  if (!thread.lastMessage || !thread.lastMessage.id || (msg.id && msg.id >= thread.lastMessage.id)) {
    thread.lastMessage = { ...held };
    if (created && msg.createdAt) {
      thread.lastMessageAt = msg.createdAt;
      if (!thread.lastActivityAt || msg.createdAt > thread.lastActivityAt) thread.lastActivityAt = msg.createdAt;
    }
  }
  if (created && firstSight && msg.userId !== me.id) {
    markDelivered(msg.threadId, msg.id);
    if (msg.threadId === state.openId && pageVisible()) {
      markRead();
    } else if (!(msg.metadata && msg.metadata.removed) && msg.id > (thread._countedThrough || "")) {
      thread.unreadCount = (thread.unreadCount || 0) + 1;
    }
  }
  renderThreadList();
}

const fetchingThreads = new Set();
function fetchThreadSoon(threadId) {
  if (fetchingThreads.has(threadId)) return;
  fetchingThreads.add(threadId);
  api
    .get(`/threads/${encodeURIComponent(threadId)}`)
    .then((t) => {
      const conv = state.convs.get(threadId);
      const unread = conv ? conv.sorted().filter((m) => m.userId !== me.id && m.id).length : 0;
      upsertThread({ ...t, unreadCount: unread, lastMessage: conv ? conv.sorted().pop() : null });
    })
    .catch(() => {})
    .finally(() => fetchingThreads.delete(threadId));
}

/** Listen to the message list: load earlier messages on demand, follow the bottom. */
export function init() {
  ui.loadOlder.addEventListener("click", loadOlder);
  ui.scroll.addEventListener("scroll", () => {
    stickToBottom = nearBottom();
    if (stickToBottom) clearUnseen();
    if (ui.scroll.scrollTop < 80) loadOlder();
  });
  ui.newMessages.addEventListener("click", () => {
    scrollToBottom();
    ui.scroll.focus({ preventScroll: true });
  });
  // An image that loads after the scroll (no size in its metadata, or a different one) makes
  // the list taller: a reader who was at the bottom stays there. `load` does not bubble.
  ui.messages.addEventListener(
    "load",
    (evt) => {
      if (evt.target.tagName === "IMG" && stickToBottom) scrollToBottom();
    },
    true,
  );
  if (window.ResizeObserver) {
    const follow = new ResizeObserver(() => {
      if (stickToBottom) scrollToBottom();
    });
    follow.observe(ui.scroll);
    follow.observe(ui.messages);
  }
}
