// Small DOM helpers. Every piece of data goes in as text (textContent / text nodes), never HTML.

/**
 * Make an element: el("li", {class: "x", text: "hi", data: {id: "1"}, attrs: {"aria-label": "…"}}, child…)
 * Children are nodes or strings (strings become text nodes).
 */
export function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  if (opts.class) node.className = opts.class;
  if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
  if (opts.data) {
    for (const [k, v] of Object.entries(opts.data)) {
      if (v !== undefined && v !== null) node.dataset[k] = String(v);
    }
  }
  if (opts.attrs) {
    for (const [k, v] of Object.entries(opts.attrs)) {
      if (v === undefined || v === null || v === false) continue;
      node.setAttribute(k, v === true ? "" : String(v));
    }
  }
  if (opts.type) node.type = opts.type;
  if (opts.hidden) node.hidden = true;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Remove every child of a node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** "alice" or "Alice Smith" for a user summary. */
export function displayName(user) {
  if (!user) return "someone";
  const full = [user.firstName, user.lastName].filter(Boolean).join(" ");
  return full || user.username || "someone";
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** A short local time for a message: "14:30" today, "Nov 25, 14:30" before. */
export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dateFmt.format(d);
}

/** "1.2 MB" */
export function humanSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let n = Number(bytes);
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** True for an absolute http(s) URL (the only kind we ever put in an href). */
export function isHttpUrl(value) {
  try {
    const u = new URL(value, window.location.origin);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/** Debounce a function by `ms`. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
