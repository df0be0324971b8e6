// What every part of the chat page shares: who I am, the limits, the API client, the page's
// elements and the mutable state. Filled once by initState(); the other modules import these
// bindings and read them at run time, never while they are being loaded.

import { Api } from "./api.js";

export const PAGE_SIZE = 50;

/** The #chat root element (its class "is-open" switches a phone between list and conversation). */
export let root = null;
/** The API client for /api/v1. */
export let api = null;
/** The logged-in user: {id, username}. */
export const me = {};
/** Limits the server enforces, from the page's data-* attributes (checked here first). */
export const limits = {};
/** The page's elements, by role. */
export const ui = {};

export const state = {
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

const ELEMENTS = {
  connection: "connection",
  convConnection: "conv-connection",
  threadList: "thread-list",
  threadListEmpty: "thread-list-empty",
  moreThreads: "more-threads",
  showArchived: "show-archived",
  newThreadBtn: "new-thread-btn",
  convEmpty: "conv-empty",
  conversation: "conversation",
  backBtn: "back-btn",
  convTitle: "conv-title",
  convParticipants: "conv-participants",
  scroll: "messages-scroll",
  newMessages: "new-messages",
  status: "chat-status",
  reportDialog: "report-dialog",
  reportForm: "report-form",
  reportQuote: "report-quote",
  reportReason: "report-reason",
  reportError: "report-error",
  reportCancel: "report-cancel",
  reportSend: "report-send",
  loadOlder: "load-older",
  messages: "messages",
  typing: "typing",
  archivedNote: "archived-note",
  composer: "composer",
  input: "composer-input",
  context: "composer-context",
  contextText: "composer-context-text",
  contextCancel: "composer-cancel",
  pending: "pending-attachments",
  linkRow: "link-row",
  linkInput: "link-input",
  linkAdd: "link-add",
  linkBtn: "link-btn",
  attachBtn: "attach-btn",
  fileInput: "file-input",
  sendBtn: "send-btn",
  composerError: "composer-error",
  mentionList: "mention-list",
  dialog: "new-thread-dialog",
  newForm: "new-thread-form",
  newTitle: "new-thread-title",
  userSearch: "user-search",
  userResults: "user-results",
  picked: "picked-users",
  newError: "new-thread-error",
  newCancel: "new-thread-cancel",
};

/** Read the page: the root's data-* attributes and every element the modules use. */
export function initState(chatRoot) {
  root = chatRoot;
  const data = chatRoot.dataset;
  Object.assign(me, { id: data.userId, username: data.username });
  Object.assign(limits, {
    content: Number(data.maxContent) || 10000,
    attachments: Number(data.maxAttachments) || 10,
    title: Number(data.maxTitle) || 200,
    upload: Number(data.maxUpload) || 10 * 1024 * 1024,
  });
  api = new Api(data.apiRoot, data.loginUrl);
  for (const [name, id] of Object.entries(ELEMENTS)) ui[name] = document.getElementById(id);
}
