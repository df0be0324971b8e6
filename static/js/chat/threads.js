// The thread list in the sidebar: loading pages of threads, merging thread events, and
// drawing each thread with its presence, preview and unread count.

import { clear, displayName, el } from "./dom.js";
import { closeThread, openThread, renderComposerState, renderConversation, renderHeader } from "./conversation.js";
import { queryPresence, socket } from "./socket.js";
import { api, me, PAGE_SIZE, state, ui } from "./state.js";

/** A thread's name in lists and headers: its title, its name, or the other people. */
export function threadLabel(t) {
  if (t.title) return t.title;
  if (t.name) return t.name;
  const others = (t.participants || []).filter((u) => u.id !== me.id);
  return others.map(displayName).join(", ") || "Just you";
}

function activityOf(t) {
  return t.lastActivityAt || t.lastMessageAt || t.createdAt || "";
}

/** Merge a thread (from a page, an event or a POST) and redraw what shows it. */
export function upsertThread(t) {
  if (!t || !t.id) return;
  const existing = state.threads.get(t.id);
  const merged = existing ? { ...existing, ...t } : { unreadCount: 0, lastMessage: null, ...t };
  if (existing && t.unreadCount === undefined) merged.unreadCount = existing.unreadCount;
  if (existing && t.lastMessage === undefined) merged.lastMessage = existing.lastMessage;
  state.threads.set(t.id, merged);
  const newPeople = (merged.participants || []).some((u) => u.id !== me.id && !state.presence.has(u.id));
  renderThreadList();
  if (t.id === state.openId) {
    renderHeader();
    renderComposerState();
    renderConversation(false);
  }
  if (newPeople && socket.connected) queryPresence();
}

/** Forget a thread we left or were removed from. */
export function removeThread(id) {
  state.threads.delete(id);
  if (state.openId === id) {
    closeThread();
    ui.convEmpty.textContent = "You are no longer a participant of that thread.";
  }
  renderThreadList();
}

/** One page of the thread list (or the archived threads, all at once). */
export async function loadThreads({ more = false, archived = false } = {}) {
  const params = { limit: PAGE_SIZE };
  if (archived) params.archived = "true";
  if (more && state.threadCursor) params.cursor = state.threadCursor;
  const data = await api.get("/threads", params);
  for (const t of data.items || []) {
    const known = state.threads.get(t.id);
    // unreadCount covers every message up to lastMessage: only newer ones count on top.
    const snapshot = (t.lastMessage && t.lastMessage.id) || "";
    state.threads.set(t.id, { ...(known || {}), ...t, _countedThrough: snapshot });
  }
  if (!archived) state.threadCursor = data.nextCursor || null;
  renderThreadList();
}

function presenceOfThread(t) {
  const others = (t.participants || []).filter((u) => u.id !== me.id);
  const online = others.filter((u) => state.presence.get(u.id) === "online");
  return { others, online };
}

/** Redraw the sidebar: order, presence dots, previews, unread badges, the page title. */
export function renderThreadList() {
  const focusedId = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.threadId
    : null;
  const showArchived = ui.showArchived.checked;
  const threads = [...state.threads.values()]
    .filter((t) => showArchived || !t.isArchived || t.id === state.openId)
    .sort((a, b) => (activityOf(a) < activityOf(b) ? 1 : activityOf(a) > activityOf(b) ? -1 : a.id < b.id ? 1 : -1));
  clear(ui.threadList);
  for (const t of threads) {
    const { others, online } = presenceOfThread(t);
    const isOnline = online.length > 0;
    const presenceText = !others.length
      ? "only you"
      : others.length === 1
        ? `${displayName(others[0])} is ${isOnline ? "online" : "offline"}`
        : `${online.length} of ${others.length} online`;
    const unread = t.id === state.openId ? 0 : t.unreadCount || 0;
    const last = t.lastMessage;
    let preview = "";
    if (last) {
      const who = last.userId === me.id ? "You" : displayName(last.user);
      const body =
        last.metadata && last.metadata.removed
          ? "(removed message)"
          : last.content || ((last.attachments || []).length ? "(attachment)" : "");
      preview = `${who}: ${body}`.slice(0, 90);
    }
    const btn = el(
      "button",
      {
        class: "thread-item",
        type: "button",
        data: { threadId: t.id },
        attrs: { "aria-current": t.id === state.openId ? "true" : null },
      },
      el("span", {
        class: "presence-dot",
        data: { status: isOnline ? "online" : "offline" },
        attrs: { role: "img", "aria-label": presenceText, title: presenceText },
      }),
      el(
        "span",
        { class: "thread-text" },
        el(
          "span",
          { class: "thread-title-row" },
          el("span", { class: "thread-title", text: threadLabel(t) }),
          t.isArchived ? el("span", { class: "tag", text: "archived" }) : null,
        ),
        el("span", { class: "thread-preview", text: preview }),
      ),
      unread > 0
        ? el("span", {
            class: "badge",
            text: unread > 99 ? "99+" : String(unread),
            attrs: { "aria-label": `${unread} unread` },
          })
        : null,
    );
    ui.threadList.append(el("li", {}, btn));
  }
  ui.threadListEmpty.hidden = threads.length > 0;
  ui.moreThreads.hidden = !state.threadCursor;
  if (focusedId) {
    const again = ui.threadList.querySelector(`[data-thread-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
  const totalUnread = [...state.threads.values()].reduce(
    (n, t) => n + (t.id === state.openId ? 0 : t.unreadCount || 0),
    0,
  );
  document.title = `${totalUnread ? `(${totalUnread}) ` : ""}Chat · Chatdesk`;
}

export function showListError(err) {
  ui.threadListEmpty.hidden = false;
  ui.threadListEmpty.textContent = `Could not load threads: ${err.message}`;
}

/** Listen to the list: open a thread, load more, show archived ones. */
export function init() {
  ui.threadList.addEventListener("click", (evt) => {
    const btn = evt.target.closest("[data-thread-id]");
    if (btn) openThread(btn.dataset.threadId);
  });
  ui.moreThreads.addEventListener("click", () => loadThreads({ more: true }).catch(showListError));
  ui.showArchived.addEventListener("change", async () => {
    if (ui.showArchived.checked && !state.archivedLoaded) {
      state.archivedLoaded = true;
      await loadThreads({ archived: true }).catch(showListError);
    }
    renderThreadList();
  });
}
