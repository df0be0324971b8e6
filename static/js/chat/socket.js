// The /chat Socket.IO connection: its state line, acks with a timeout, the server's events,
// the catch-up `sync` after every (re)connect, and the presence of the people we chat with.

import { resendStuck } from "./composer.js";
import { applyMessage, loadNewest, renderHeader, renderOne } from "./conversation.js";
import { markRead } from "./receipts.js";
import { api, me, state, ui } from "./state.js";
import { bestStatus } from "./store.js";
import { removeThread, renderThreadList, upsertThread } from "./threads.js";
import { onTyping } from "./typing.js";

const ACK_TIMEOUT_MS = 10000;

/** The socket.io client socket (made by init, connected by main once the threads are listed). */
export let socket = null;

function setConnection(kind, text) {
  ui.connection.dataset.state = kind;
  ui.connection.textContent = text;
  ui.convConnection.dataset.state = kind;
  ui.convConnection.textContent = text;
}

/** Emit with an ack; resolves to the ack, or {ok:false, error:{code:"timeout"}}. */
export function emitAck(event, payload, timeout = ACK_TIMEOUT_MS) {
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

/** Make the socket and listen to the server; it connects later (main calls socket.connect()). */
export function init() {
  socket = window.io("/chat", { autoConnect: false, withCredentials: true });
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
}

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

// --- presence -----------------------------------------------------------------------------

function allOtherUserIds() {
  const ids = new Set();
  for (const t of state.threads.values()) {
    for (const u of t.participants || []) if (u.id !== me.id) ids.add(u.id);
  }
  return [...ids];
}

/** Ask for the presence of everyone in our threads (on connect, and when new people appear). */
export async function queryPresence() {
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
