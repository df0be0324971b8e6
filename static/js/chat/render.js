// A message as DOM. All data goes in as text; links get an href only when they are http(s).

import { displayName, el, humanSize, isHttpUrl, shortTime } from "./dom.js";

const STATUS_TEXT = {
  sending: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Not sent",
};
const STATUS_MARK = { sending: "○", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

const TOKENS = /(@[\w.\-]+)|(https?:\/\/[^\s<>"']+)/g;

/** The content as text nodes, with @mentions of known users and http(s) links marked up. */
export function contentNodes(text, usernames) {
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(TOKENS)) {
    if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
    if (m[1]) {
      const name = m[1].slice(1).toLowerCase();
      nodes.push(
        usernames.has(name)
          ? el("span", { class: "mention", text: m[1] })
          : document.createTextNode(m[1]),
      );
    } else {
      const url = m[2].replace(/[.,;:!?)\]]+$/, "");
      const rest = m[2].slice(url.length);
      if (isHttpUrl(url)) {
        nodes.push(
          el("a", { text: url, attrs: { href: url, rel: "noopener noreferrer nofollow", target: "_blank" } }),
        );
      } else {
        nodes.push(document.createTextNode(url));
      }
      if (rest) nodes.push(document.createTextNode(rest));
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

// The box an image is shown in (.att-image img's max-width and max-height, in CSS px).
const IMAGE_BOX = { width: 256, height: 192 };

function positiveInt(v) {
  return Number.isInteger(v) && v > 0 ? v : null;
}

/**
 * What an image attachment shows: its thumbnail when the upload has one, else the original;
 * and, when the metadata gives the size, that size scaled into the box, as width/height
 * attributes that reserve the space before the bytes arrive (nothing jumps, the scroll holds).
 */
export function imageSource(att) {
  const meta = att.metadata || {};
  const thumb = meta.thumbnail && typeof meta.thumbnail === "object" ? meta.thumbnail : null;
  const thumbOk =
    thumb &&
    typeof thumb.url === "string" &&
    isHttpUrl(thumb.url) &&
    new URL(thumb.url, window.location.origin).origin === window.location.origin &&
    positiveInt(thumb.width) &&
    positiveInt(thumb.height);
  const src = thumbOk ? thumb.url : att.url;
  const w = thumbOk ? thumb.width : positiveInt(meta.width);
  const h = thumbOk ? thumb.height : positiveInt(meta.height);
  if (!w || !h) return { src, width: null, height: null };
  const scale = Math.min(1, IMAGE_BOX.width / w, IMAGE_BOX.height / h);
  return { src, width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

function attachmentNode(att) {
  const name = (att.metadata && (att.metadata.filename || att.metadata.name)) || "";
  // The page's CSP loads images from this site only: an image elsewhere is shown as a link.
  const foreignImage =
    att.type === "image" && isHttpUrl(att.url) && new URL(att.url, window.location.origin).origin !== window.location.origin;
  if (att.type === "link" || foreignImage) {
    if (!isHttpUrl(att.url)) return el("li", { class: "att att-link", text: att.url || "" });
    return el(
      "li",
      { class: "att att-link" },
      el("a", { text: att.url, attrs: { href: att.url, rel: "noopener noreferrer nofollow", target: "_blank" } }),
    );
  }
  if (!att.url || !isHttpUrl(att.url)) {
    return el("li", { class: "att", text: name || "attachment" });
  }
  if (att.type === "image") {
    const { src, width, height } = imageSource(att);
    return el(
      "li",
      { class: "att att-image" },
      el(
        "a",
        { attrs: { href: att.url, target: "_blank", rel: "noopener" } },
        el("img", { attrs: { src, alt: name || "Image attachment", loading: "lazy", width, height } }),
      ),
    );
  }
  return el(
    "li",
    { class: "att att-file" },
    el("a", { text: name || "Download file", attrs: { href: att.url, download: name || true } }),
    el("span", { class: "muted", text: ` ${[att.mimeType, humanSize(att.size)].filter(Boolean).join(", ")}` }),
  );
}

function actionButton(action, label, text) {
  return el("button", {
    class: "msg-action secondary outline small",
    type: "button",
    text,
    data: { action },
    attrs: { "aria-label": label },
  });
}

/**
 * One message as an <li>. ctx: {meId, usernames (Set, lowercase), parentOf(msg) -> msg|undefined,
 * archived (bool), confirmDelete (key or null)}.
 */
export function renderMessage(msg, ctx) {
  const mine = msg.userId === ctx.meId;
  const removed = msg.metadata && msg.metadata.removed;
  const classes = ["msg"];
  if (mine) classes.push("msg-mine");
  if (removed) classes.push("msg-removed");
  if (msg.status === "failed") classes.push("msg-failed");
  if (msg.status === "sending") classes.push("msg-sending");
  const author = displayName(msg.user);
  const li = el("li", {
    class: classes.join(" "),
    data: { key: msg._key, id: msg.id, status: mine ? msg.status : null },
    attrs: { id: msg.id ? `m-${msg.id}` : null },
  });

  const meta = el(
    "div",
    { class: "msg-meta" },
    el("span", { class: "msg-author", text: mine ? "You" : author }),
    " ",
    el("time", { text: shortTime(msg.createdAt), attrs: { datetime: msg.createdAt } }),
  );
  const edited = msg.metadata && (msg.metadata.edited || msg.metadata.editedAt);
  if (edited && !removed) meta.append(" ", el("span", { class: "msg-edited muted", text: "(edited)" }));
  li.append(meta);

  if (msg.parentId) {
    const parent = ctx.parentOf(msg);
    const quote = el("a", {
      class: "msg-parent",
      attrs: { href: `#m-${msg.parentId}` },
      data: { action: "goto-parent", parentId: msg.parentId },
    });
    if (parent) {
      const snippet =
        parent.metadata && parent.metadata.removed ? "(removed message)" : (parent.content || "").slice(0, 120);
      quote.append(
        el("span", { class: "msg-parent-label", text: `↪ Reply to ${displayName(parent.user)}: ` }),
        el("span", { text: snippet }),
      );
    } else {
      quote.append(el("span", { class: "msg-parent-label", text: "↪ Reply to an earlier message" }));
    }
    li.append(quote);
  }

  if (removed) {
    li.append(
      el("p", {
        class: "msg-body msg-removed-note",
        text: removed === "moderator" ? "This message was removed by a moderator." : "This message was deleted.",
      }),
    );
  } else {
    if (msg.content) li.append(el("p", { class: "msg-body" }, ...contentNodes(msg.content, ctx.usernames)));
    const atts = msg.attachments || [];
    if (atts.length) li.append(el("ul", { class: "msg-attachments" }, ...atts.map(attachmentNode)));
  }

  const foot = el("div", { class: "msg-foot" });
  if (mine && msg.status) {
    foot.append(
      el(
        "span",
        { class: "msg-status", data: { status: msg.status }, attrs: { title: STATUS_TEXT[msg.status] || msg.status } },
        el("span", { class: "msg-status-mark", text: STATUS_MARK[msg.status] || "", attrs: { "aria-hidden": "true" } }),
        " ",
        el("span", { class: "msg-status-text", text: STATUS_TEXT[msg.status] || msg.status }),
      ),
    );
  }
  if (mine && msg.status === "failed") {
    if (msg._error) foot.append(" ", el("span", { class: "msg-error", text: msg._error }));
    foot.append(
      " ",
      msg._blocked
        ? actionButton("revise", "Edit this message and send it again", "Edit and resend")
        : actionButton("retry", "Retry sending this message", "Retry"),
    );
  }
  if (!removed && msg.id && !(ctx.archived && mine)) {
    const actions = el("span", { class: "msg-actions" });
    if (!ctx.archived) actions.append(actionButton("reply", `Reply to ${mine ? "your message" : author}`, "Reply"));
    if (!mine) actions.append(actionButton("report", `Report ${author}'s message`, "Report"));
    if (mine) {
      actions.append(actionButton("edit", "Edit your message", "Edit"));
      actions.append(
        ctx.confirmDelete === msg._key
          ? actionButton("confirm-delete", "Really delete your message", "Really delete?")
          : actionButton("delete", "Delete your message", "Delete"),
      );
    }
    foot.append(actions);
  }
  li.append(foot);
  return li;
}
