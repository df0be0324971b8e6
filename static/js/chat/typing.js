// Typing indicators both ways: who else is typing in the open thread, and our own
// `typing:start` / `typing:stop`, throttled.

import { displayName } from "./dom.js";
import { emitAck, socket } from "./socket.js";
import { me, state, ui } from "./state.js";

const TYPING_SHOW_MS = 6000;
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

/** Someone else's `typing` event: show them for a while, or stop showing them. */
export function onTyping(evt) {
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

/** The "… is typing" line of the open thread. */
export function renderTyping() {
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

/** The reader typed: send `typing:start` (repeated while typing), `typing:stop` when idle. */
export function noteTyping() {
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

/** Stop announcing that we type (sent, changed thread, or idle). */
export function sendTypingStop() {
  clearTimeout(state.typingIdle);
  if (!state.typingThread) return;
  const threadId = state.typingThread;
  state.typingThread = null;
  state.typingSentAt = 0;
  if (socket.connected) emitAck("typing:stop", { threadId });
}
