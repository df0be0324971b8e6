// The chat page (/chat): thread list, conversation, composer. It talks to /api/v1 and the
// /chat Socket.IO namespace (docs/api.md). Plain ES modules, no build step; every piece of
// data is inserted as text. This module reads the page, starts each part, then loads.
//
// The parts, one module each:
//   state.js         who I am, limits, the page's elements, the shared state
//   socket.js        the connection, acks, server events, sync after reconnects, presence
//   threads.js       the thread list
//   conversation.js  the open thread: its pages, its messages on screen, merging messages
//   receipts.js      delivered and read receipts
//   typing.js        typing indicators both ways
//   composer.js      send, reply, edit, delete, retry
//   attachments.js   uploads and links for the next message
//   new-thread.js    the "New thread" dialog
//   report.js        reporting someone's message to the moderators
// and the helpers they share: api.js (fetch with CSRF), dom.js, render.js (a message as
// DOM), store.js (one thread's messages, merged by id and clientId), mentions.js.
//
// The parts import one another's functions and call them only once the page runs, after
// every init below, so the order in which the browser loads them does not matter.

import * as attachments from "./attachments.js";
import * as composer from "./composer.js";
import * as conversation from "./conversation.js";
import * as newThread from "./new-thread.js";
import * as receipts from "./receipts.js";
import * as report from "./report.js";
import * as socket from "./socket.js";
import { initState, state, ui } from "./state.js";
import * as threads from "./threads.js";

const THREAD_HASH = /^#thread=(.+)$/;

/** Layout and keyboard: the phone's Back button, and #thread=<id> links. */
function initLayout() {
  ui.backBtn.addEventListener("click", () => {
    const id = state.openId;
    conversation.closeThread();
    const btn = id && ui.threadList.querySelector(`[data-thread-id="${CSS.escape(id)}"]`);
    if (btn) btn.focus();
  });
  window.addEventListener("hashchange", () => {
    const m = THREAD_HASH.exec(location.hash);
    if (m && m[1] !== state.openId) conversation.openThread(decodeURIComponent(m[1]));
  });
}

/** Start the page: every part listens, the threads load, then the socket connects. */
async function start(root) {
  initState(root);
  socket.init();
  threads.init();
  conversation.init();
  receipts.init();
  composer.init();
  attachments.init();
  newThread.init();
  report.init();
  initLayout();

  try {
    await threads.loadThreads();
  } catch (err) {
    threads.showListError(err);
  }
  socket.socket.connect();
  const m = THREAD_HASH.exec(location.hash);
  if (m) conversation.openThread(decodeURIComponent(m[1]), { focus: false });
}

const chatRoot = document.getElementById("chat");
if (chatRoot && window.io) start(chatRoot);
