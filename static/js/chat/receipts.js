// Delivery and read receipts: `messages:delivered` for what reached this device,
// `messages:read` for what the reader has seen, each sent once per newer message.

import { debounce } from "./dom.js";
import { emitAck } from "./socket.js";
import { state, ui } from "./state.js";
import { renderThreadList } from "./threads.js";

/** Whether the reader can see the open conversation now (read receipts wait for that). */
export function pageVisible() {
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

/** Tell the server a message reached this device (batched, newest per thread). */
export function markDelivered(threadId, messageId) {
  const queued = deliveredQueue.get(threadId);
  if (!queued || messageId > queued) deliveredQueue.set(threadId, messageId);
  flushDelivered();
}

/** Move the open thread's read watermark to its newest message, once per message. */
export function markRead() {
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

/** Read what is open when the page comes back into view. */
export function init() {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") markRead();
  });
  window.addEventListener("focus", markRead);
}
