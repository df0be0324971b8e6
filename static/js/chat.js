// The chat page: thread list, conversation, composer. Talks to /api/v1 and the /chat namespace
// (SPEC §5). Plain ES modules, no build step; every piece of data is inserted as text.

import { Api } from "./chat/api.js";
import { clear, debounce, displayName, el, humanSize, isHttpUrl } from "./chat/dom.js";
import { MentionBox } from "./chat/mentions.js";
import { renderMessage } from "./chat/render.js";
import { bestStatus, Conversation } from "./chat/store.js";

const ACK_TIMEOUT_MS = 10000;
const TYPING_SHOW_MS = 6000;
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
const PAGE_SIZE = 50;

/** A v4 UUID: crypto.randomUUID where available (secure contexts), else from getRandomValues. */
function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function start(root) {
  const $ = (id) => document.getElementById(id);
  const me = { id: root.dataset.userId, username: root.dataset.username };
  const limits = {
    content: Number(root.dataset.maxContent) || 10000,
    attachments: Number(root.dataset.maxAttachments) || 10,
    title: Number(root.dataset.maxTitle) || 200,
    upload: Number(root.dataset.maxUpload) || 10 * 1024 * 1024,
  };
  const api = new Api(root.dataset.apiRoot, root.dataset.loginUrl);

  const ui = {
    connection: $("connection"),
    convConnection: $("conv-connection"),
    threadList: $("thread-list"),
    threadListEmpty: $("thread-list-empty"),
    moreThreads: $("more-threads"),
    showArchived: $("show-archived"),
    newThreadBtn: $("new-thread-btn"),
    convEmpty: $("conv-empty"),
    conversation: $("conversation"),
    backBtn: $("back-btn"),
    convTitle: $("conv-title"),
    convParticipants: $("conv-participants"),
    scroll: $("messages-scroll"),
    loadOlder: $("load-older"),
    messages: $("messages"),
    typing: $("typing"),
    archivedNote: $("archived-note"),
    composer: $("composer"),
    input: $("composer-input"),
    context: $("composer-context"),
    contextText: $("composer-context-text"),
    contextCancel: $("composer-cancel"),
    pending: $("pending-attachments"),
    linkRow: $("link-row"),
    linkInput: $("link-input"),
    linkAdd: $("link-add"),
    linkBtn: $("link-btn"),
    attachBtn: $("attach-btn"),
    fileInput: $("file-input"),
    sendBtn: $("send-btn"),
    composerError: $("composer-error"),
    mentionList: $("mention-list"),
    dialog: $("new-thread-dialog"),
    newForm: $("new-thread-form"),
    newTitle: $("new-thread-title"),
    userSearch: $("user-search"),
    userResults: $("user-results"),
    picked: $("picked-users"),
    newError: $("new-thread-error"),
    newCancel: $("new-thread-cancel"),
  };

  const state = {
    threads: new Map(), // id -> Thread (with unreadCount, lastMessage)
    threadCursor: null,
    archivedLoaded: false,
    openId: null,
    convs: new Map(), // threadId -> Conversation
    nodes: new Map(), // message key -> <li> of the open conversation
    seen: new Set(), // message ids already counted (unread badges count each message once)
    presence: new Map(), // userId -> "online" | "offline"
    typing: new Map(), // threadId -> Map(userId -> timer)
    syncCursor: null,
    syncing: null,
    replyTo: null,
    editing: null,
    confirmDelete: null,
    attachments: [], // {kind: "upload"|"link", attachment, label}
    uploading: 0,
    readSent: new Map(), // threadId -> newest id sent as read
    deliveredSent: new Map(), // threadId -> newest id sent as delivered
    typingSentAt: 0,
    typingThread: null,
    typingIdle: null,
    picked: new Map(), // new-thread dialog: userId -> user
    endedSession: false,
  };

  // --- connection -------------------------------------------------------------------------

  const socket = window.io("/chat", { autoConnect: false, withCredentials: true });

  function setConnection(kind, text) {
    ui.connection.dataset.state = kind;
    ui.connection.textContent = text;
    ui.convConnection.dataset.state = kind;
    ui.convConnection.textContent = text;
  }

  /** Emit with an ack; resolves to the ack, or {ok:false, error:{code:"timeout"}}. */
  function emitAck(event, payload, timeout = ACK_TIMEOUT_MS) {
    return new Promise((resolve) => {
      socket.timeout(timeout).emit(event, payload, (err, ack) => {
        if (err) {
          resolve({ ok: false, error: { code: "timeout", message: "The server did not answer in time." } });
        } else {
          resolve(ack || { ok: false, error: { code: "bad_ack", message: "No answer." } });
        }
      });
    });
  }

  socket.on("connect", () => {
    setConnection("online", "Connected");
    onConnected();
  });
  socket.on("disconnect", (reason) => {
    ui.connection.dataset.synced = "false";
    if (state.endedSession) return;
    if (reason === "io server disconnect") {
      setConnection("offline", "Disconnected by the server. Reload the page to reconnect.");
    } else {
      setConnection("reconnecting", "Connection lost, reconnecting…");
    }
  });
  socket.on("connect_error", () => {
    if (!socket.active) {
      setConnection("offline", "The chat refused the connection: log in again.");
    } else {
      setConnection("reconnecting", "Cannot reach the chat, retrying…");
    }
  });
  socket.on("session:ended", () => {
    state.endedSession = true;
    setConnection("offline", "Your session has ended. Log in again to keep chatting.");
    socket.disconnect();
  });
  socket.on("message:new", (msg) => applyMessage(msg, true));
  socket.on("message:updated", (msg) => applyMessage(msg, false));
  socket.on("message:status", (evt) => {
    const conv = state.convs.get(evt.threadId);
    if (!conv) return;
    const changed = conv.setStatus(evt.messageIds || [], evt.status);
    if (evt.threadId === state.openId) changed.forEach(renderOne);
    const thread = state.threads.get(evt.threadId);
    if (thread && thread.lastMessage && (evt.messageIds || []).includes(thread.lastMessage.id)) {
      thread.lastMessage.status = bestStatus(thread.lastMessage.status, evt.status);
    }
  });
  socket.on("typing", onTyping);
  socket.on("presence", (p) => setPresence([p]));
  socket.on("thread:new", (t) => upsertThread(t));
  socket.on("thread:updated", (t) => upsertThread(t));
  socket.on("thread:removed", (t) => removeThread(t.id));

  async function onConnected() {
    ui.connection.dataset.synced = "false";
    let synced = false;
    for (let attempt = 0; attempt < 3 && !synced && socket.connected; attempt += 1) {
      synced = await runSync();
    }
    if (synced && socket.connected) ui.connection.dataset.synced = "true";
    queryPresence();
    if (state.openId) {
      // Statuses that moved while we were away, and the page we show, fresh from the server.
      await loadNewest(state.openId);
      markRead();
    }
    resendStuck();
  }

  /**
   * Backfill after (re)connecting: `sync` from the last cursor until hasMore is false.
   * Resolves true when it got to the end.
   */
  function runSync() {
    if (state.syncing) return state.syncing;
    state.syncing = (async () => {
      let since = state.syncCursor;
      if (!since) {
        // First connection: from a little before the server's clock at page load; merging by
        // id makes any overlap with the pages already fetched harmless.
        const base = api.serverDate || new Date();
        since = new Date(base.getTime() - 60000).toISOString();
      }
      for (let round = 0; round < 1000; round += 1) {
        const ack = await emitAck("sync", { since });
        if (!ack.ok) return false;
        for (const m of ack.messages || []) applyMessage(m, true);
        for (const m of ack.updates || []) applyMessage(m, false);
        state.syncCursor = ack.cursor || state.syncCursor;
        if (!ack.hasMore || !ack.cursor || ack.cursor === since) return true;
        since = ack.cursor;
      }
      return true;
    })().finally(() => {
      state.syncing = null;
    });
    return state.syncing;
  }

  function allOtherUserIds() {
    const ids = new Set();
    for (const t of state.threads.values()) {
      for (const u of t.participants || []) if (u.id !== me.id) ids.add(u.id);
    }
    return [...ids];
  }

  async function queryPresence() {
    const userIds = allOtherUserIds();
    if (!userIds.length) return;
    const ack = await emitAck("presence:query", { userIds });
    if (ack.ok) setPresence(ack.presence || []);
  }

  function setPresence(list) {
    let changed = false;
    for (const p of list) {
      if (!p || !p.userId) continue;
      if (state.presence.get(p.userId) !== p.status) changed = true;
      state.presence.set(p.userId, p.status);
    }
    if (changed) {
      renderThreadList();
      renderHeader();
    }
  }

  // --- threads ----------------------------------------------------------------------------

  function threadLabel(t) {
    if (t.title) return t.title;
    if (t.name) return t.name;
    const others = (t.participants || []).filter((u) => u.id !== me.id);
    return others.map(displayName).join(", ") || "Just you";
  }

  function activityOf(t) {
    return t.lastActivityAt || t.lastMessageAt || t.createdAt || "";
  }

  function upsertThread(t) {
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

  function removeThread(id) {
    state.threads.delete(id);
    if (state.openId === id) {
      closeThread();
      ui.convEmpty.textContent = "You are no longer a participant of that thread.";
    }
    renderThreadList();
  }

  async function loadThreads({ more = false, archived = false } = {}) {
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

  function renderThreadList() {
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

  function showListError(err) {
    ui.threadListEmpty.hidden = false;
    ui.threadListEmpty.textContent = `Could not load threads: ${err.message}`;
  }

  // --- conversation -----------------------------------------------------------------------

  function conversation(threadId) {
    let conv = state.convs.get(threadId);
    if (!conv) {
      conv = new Conversation(threadId);
      state.convs.set(threadId, conv);
    }
    return conv;
  }

  async function openThread(threadId, { focus = true } = {}) {
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

  function closeThread() {
    sendTypingStop();
    state.openId = null;
    root.classList.remove("is-open");
    ui.conversation.hidden = true;
    ui.convEmpty.hidden = false;
    history.replaceState(null, "", location.pathname + location.search);
    renderThreadList();
  }

  /** The newest page of a thread, merged into what we hold. */
  async function loadNewest(threadId) {
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

  ui.loadOlder.addEventListener("click", loadOlder);
  // Keep the newest message in view when the composer grows (link row, reply note, a phone's
  // keyboard) unless the user has scrolled up to read.
  let stickToBottom = true;
  ui.scroll.addEventListener("scroll", () => {
    stickToBottom = nearBottom();
    if (ui.scroll.scrollTop < 80) loadOlder();
  });
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (stickToBottom) scrollToBottom();
    }).observe(ui.scroll);
  }

  function renderHeader() {
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

  function renderComposerState() {
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

  function scrollToBottom() {
    ui.scroll.scrollTop = ui.scroll.scrollHeight;
  }

  /** Rebuild the open conversation's list (keeping the focus on the same control). */
  function renderConversation(toBottom) {
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
  function renderOne(msg) {
    const conv = state.convs.get(state.openId);
    if (!conv || msg.threadId !== state.openId || !conv.loaded) return;
    const stick = nearBottom() || (msg.userId === me.id && msg.status === "sending");
    const focus = focusedMessageControl();
    const li = renderMessage(msg, renderCtx());
    const old = state.nodes.get(msg._key);
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
  function applyMessage(msg, created) {
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

  // --- receipts ---------------------------------------------------------------------------

  function pageVisible() {
    if (document.visibilityState !== "visible") return false;
    // On a narrow screen the conversation is visible only while a thread is open.
    return !ui.conversation.hidden;
  }

  const deliveredQueue = new Map();
  const flushDelivered = debounce(() => {
    for (const [threadId, messageId] of deliveredQueue) {
      const sent = state.deliveredSent.get(threadId);
      if (sent && sent >= messageId) continue;
      state.deliveredSent.set(threadId, messageId);
      emitAck("messages:delivered", { threadId, messageId });
    }
    deliveredQueue.clear();
  }, 150);

  function markDelivered(threadId, messageId) {
    const queued = deliveredQueue.get(threadId);
    if (!queued || messageId > queued) deliveredQueue.set(threadId, messageId);
    flushDelivered();
  }

  function markRead() {
    const threadId = state.openId;
    if (!threadId || !pageVisible()) return;
    const conv = state.convs.get(threadId);
    if (!conv || !conv.loaded) return;
    const newest = conv.newestId();
    const thread = state.threads.get(threadId);
    if (thread && thread.unreadCount) {
      thread.unreadCount = 0;
      renderThreadList();
    }
    if (!newest) return;
    const sent = state.readSent.get(threadId);
    if (sent && sent >= newest) return;
    state.readSent.set(threadId, newest);
    emitAck("messages:read", { threadId, messageId: newest }).then((ack) => {
      if (!ack.ok && state.readSent.get(threadId) === newest) state.readSent.delete(threadId);
    });
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") markRead();
  });
  window.addEventListener("focus", markRead);

  // --- typing -----------------------------------------------------------------------------

  function onTyping(evt) {
    if (!evt || evt.userId === me.id) return;
    let users = state.typing.get(evt.threadId);
    if (!users) {
      users = new Map();
      state.typing.set(evt.threadId, users);
    }
    clearTimeout(users.get(evt.userId));
    if (evt.isTyping) {
      users.set(
        evt.userId,
        setTimeout(() => {
          users.delete(evt.userId);
          if (evt.threadId === state.openId) renderTyping();
        }, TYPING_SHOW_MS),
      );
    } else {
      users.delete(evt.userId);
    }
    if (evt.threadId === state.openId) renderTyping();
  }

  function renderTyping() {
    const users = state.typing.get(state.openId);
    const t = state.threads.get(state.openId);
    if (!users || !users.size || !t) {
      ui.typing.textContent = "";
      return;
    }
    const byId = new Map((t.participants || []).map((u) => [u.id, u]));
    const names = [...users.keys()].map((id) => displayName(byId.get(id)));
    ui.typing.textContent =
      names.length === 1
        ? `${names[0]} is typing…`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing…`
          : "Several people are typing…";
  }

  function noteTyping() {
    const threadId = state.openId;
    if (!threadId || state.editing) return;
    const now = Date.now();
    if (state.typingThread !== threadId || now - state.typingSentAt > TYPING_REPEAT_MS) {
      state.typingThread = threadId;
      state.typingSentAt = now;
      emitAck("typing:start", { threadId });
    }
    clearTimeout(state.typingIdle);
    state.typingIdle = setTimeout(sendTypingStop, TYPING_IDLE_MS);
  }

  function sendTypingStop() {
    clearTimeout(state.typingIdle);
    if (!state.typingThread) return;
    const threadId = state.typingThread;
    state.typingThread = null;
    state.typingSentAt = 0;
    if (socket.connected) emitAck("typing:stop", { threadId });
  }

  // --- composer ---------------------------------------------------------------------------

  const mentions = new MentionBox(ui.input, ui.mentionList, () => {
    const t = state.threads.get(state.openId);
    return t ? (t.participants || []).filter((u) => u.id !== me.id) : [];
  });

  function showComposerError(text) {
    ui.composerError.textContent = text || "";
  }

  function setContext(text) {
    ui.contextText.textContent = text;
    ui.context.hidden = !text;
  }

  function cancelContext() {
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
    renderOne(msg);
    msg._inflight = true;
    const ack = await emitAck("message:send", msg._payload);
    msg._inflight = false;
    if (ack.ok && ack.message) {
      applyMessage(ack.message, true);
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

  /** After a reconnect, give messages still marked "sending" (and not in flight) another go. */
  function resendStuck() {
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
      showComposerError(`Could not save the edit: ${(ack.error && ack.error.message) || "no answer"}`);
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
    }
  });

  // --- attachments ------------------------------------------------------------------------

  function renderPending() {
    clear(ui.pending);
    state.attachments.forEach((a, i) => {
      ui.pending.append(
        el(
          "li",
          { class: "pending-att" },
          el("span", { text: a.label }),
          " ",
          el("button", {
            type: "button",
            class: "secondary outline small",
            text: "Remove",
            data: { index: i },
            attrs: { "aria-label": `Remove ${a.label}` },
          }),
        ),
      );
    });
    if (state.uploading) ui.pending.append(el("li", { class: "pending-att muted", text: "Uploading…" }));
  }

  function clearAttachments() {
    state.attachments = [];
    ui.linkInput.value = "";
    ui.linkRow.hidden = true;
    ui.linkBtn.setAttribute("aria-expanded", "false");
    renderPending();
  }

  ui.pending.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-index]");
    if (!btn) return;
    state.attachments.splice(Number(btn.dataset.index), 1);
    renderPending();
    ui.input.focus();
  });

  ui.attachBtn.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", async () => {
    const files = [...ui.fileInput.files];
    ui.fileInput.value = "";
    for (const file of files) {
      if (state.attachments.length + state.uploading >= limits.attachments) {
        showComposerError(`At most ${limits.attachments} attachments per message.`);
        break;
      }
      if (file.size > limits.upload) {
        showComposerError(`${file.name} is too large (at most ${humanSize(limits.upload)}).`);
        continue;
      }
      state.uploading += 1;
      renderPending();
      try {
        const attachment = await api.upload(file);
        state.attachments.push({
          kind: "upload",
          attachment,
          label: `${attachment.type === "image" ? "Image" : "File"}: ${file.name} (${humanSize(attachment.size)})`,
        });
        showComposerError("");
      } catch (err) {
        showComposerError(`Could not upload ${file.name}: ${err.message}`);
      } finally {
        state.uploading -= 1;
        renderPending();
      }
    }
    ui.input.focus();
  });

  ui.linkBtn.addEventListener("click", () => {
    ui.linkRow.hidden = !ui.linkRow.hidden;
    ui.linkBtn.setAttribute("aria-expanded", String(!ui.linkRow.hidden));
    if (!ui.linkRow.hidden) ui.linkInput.focus();
  });

  function addLink() {
    const url = ui.linkInput.value.trim();
    if (!url) return;
    if (!/^https?:\/\//i.test(url) || !isHttpUrl(url)) {
      showComposerError("A link must start with http:// or https://.");
      ui.linkInput.focus();
      return;
    }
    if (state.attachments.length >= limits.attachments) {
      showComposerError(`At most ${limits.attachments} attachments per message.`);
      return;
    }
    state.attachments.push({ kind: "link", url, label: `Link: ${url}` });
    ui.linkInput.value = "";
    ui.linkRow.hidden = true;
    ui.linkBtn.setAttribute("aria-expanded", "false");
    showComposerError("");
    renderPending();
    ui.input.focus();
  }

  ui.linkAdd.addEventListener("click", addLink);
  ui.linkInput.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") {
      evt.preventDefault();
      addLink();
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      ui.linkRow.hidden = true;
      ui.linkBtn.setAttribute("aria-expanded", "false");
      ui.linkBtn.focus();
    }
  });

  // --- new thread dialog ------------------------------------------------------------------

  function renderPicked() {
    clear(ui.picked);
    for (const u of state.picked.values()) {
      ui.picked.append(
        el(
          "li",
          { class: "picked-user" },
          el("span", { text: `${displayName(u)} (@${u.username})` }),
          " ",
          el("button", {
            type: "button",
            class: "secondary outline small",
            text: "Remove",
            data: { userId: u.id },
            attrs: { "aria-label": `Remove ${displayName(u)}` },
          }),
        ),
      );
    }
    if (!state.picked.size) ui.picked.append(el("li", { class: "muted", text: "Nobody yet." }));
  }

  let lastResults = [];
  const searchUsers = debounce(async () => {
    const q = ui.userSearch.value.trim();
    clear(ui.userResults);
    if (!q) return;
    try {
      const data = await api.get("/users", { q });
      lastResults = (data.items || []).filter((u) => u.id !== me.id);
      clear(ui.userResults);
      const shown = lastResults.filter((u) => !state.picked.has(u.id));
      if (!shown.length) ui.userResults.append(el("li", { class: "muted", text: "Nobody found." }));
      for (const u of shown) {
        ui.userResults.append(
          el(
            "li",
            {},
            el("button", {
              type: "button",
              class: "user-result secondary outline small",
              text: `Add ${displayName(u)} (@${u.username})`,
              data: { userId: u.id },
            }),
          ),
        );
      }
    } catch (err) {
      ui.newError.textContent = `Could not search: ${err.message}`;
    }
  }, 200);

  ui.newThreadBtn.addEventListener("click", () => {
    state.picked.clear();
    ui.newForm.reset();
    ui.newError.textContent = "";
    clear(ui.userResults);
    renderPicked();
    ui.dialog.showModal();
    ui.newTitle.focus();
  });
  ui.newCancel.addEventListener("click", () => ui.dialog.close());
  ui.userSearch.addEventListener("input", searchUsers);
  ui.userSearch.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") {
      evt.preventDefault();
      const first = ui.userResults.querySelector("button[data-user-id]");
      if (first) first.click();
    }
  });
  ui.userResults.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-user-id]");
    if (!btn) return;
    const user = lastResults.find((u) => u.id === btn.dataset.userId);
    if (user) state.picked.set(user.id, user);
    btn.closest("li").remove();
    renderPicked();
    ui.userSearch.value = "";
    clear(ui.userResults);
    ui.userSearch.focus();
  });
  ui.picked.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-user-id]");
    if (!btn) return;
    state.picked.delete(btn.dataset.userId);
    renderPicked();
    ui.userSearch.focus();
  });
  ui.newForm.addEventListener("submit", async (evt) => {
    evt.preventDefault();
    const title = ui.newTitle.value.trim();
    ui.newError.textContent = "";
    if (!title) {
      ui.newError.textContent = "Give the thread a title.";
      ui.newTitle.focus();
      return;
    }
    if (title.length > limits.title) {
      ui.newError.textContent = `A title is at most ${limits.title} characters.`;
      return;
    }
    if (!state.picked.size) {
      ui.newError.textContent = "Add at least one person.";
      ui.userSearch.focus();
      return;
    }
    try {
      const thread = await api.post("/threads", { title, participantIds: [...state.picked.keys()] });
      upsertThread({ unreadCount: 0, lastMessage: null, lastActivityAt: thread.createdAt, ...thread });
      ui.dialog.close();
      openThread(thread.id);
    } catch (err) {
      ui.newError.textContent = err.message;
    }
  });

  // --- layout and keyboard ------------------------------------------------------------------

  ui.backBtn.addEventListener("click", () => {
    const id = state.openId;
    closeThread();
    const btn = id && ui.threadList.querySelector(`[data-thread-id="${CSS.escape(id)}"]`);
    if (btn) btn.focus();
  });
  window.addEventListener("hashchange", () => {
    const m = /^#thread=(.+)$/.exec(location.hash);
    if (m && m[1] !== state.openId) openThread(decodeURIComponent(m[1]));
  });

  // --- start ------------------------------------------------------------------------------

  (async () => {
    try {
      await loadThreads();
    } catch (err) {
      showListError(err);
    }
    socket.connect();
    const m = /^#thread=(.+)$/.exec(location.hash);
    if (m) openThread(decodeURIComponent(m[1]), { focus: false });
  })();
}

const chatRoot = document.getElementById("chat");
if (chatRoot && window.io) start(chatRoot);
