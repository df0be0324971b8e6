// One conversation's messages, merged by id and by (userId, clientId): whatever order the
// optimistic copy, the ack, `message:new`, `message:updated`, a page or a sync arrive in, each
// message is held exactly once.

const RANK = { sending: 0, failed: 0, sent: 1, delivered: 2, read: 3 };
const SERVER_STATUSES = new Set(["sent", "delivered", "read"]);

/** The better of two statuses: a server status beats a local one, then the furthest wins. */
export function bestStatus(current, incoming) {
  if (!incoming) return current;
  if (!current) return incoming;
  if (!SERVER_STATUSES.has(incoming)) {
    // Local states (sending/failed) never undo what the server confirmed.
    return SERVER_STATUSES.has(current) ? current : incoming;
  }
  if (!SERVER_STATUSES.has(current)) return incoming;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

function keyFor(msg) {
  return msg.clientId ? `c:${msg.userId}:${msg.clientId}` : `i:${msg.id}`;
}

let localSeq = 0;

export class Conversation {
  constructor(threadId) {
    this.threadId = threadId;
    this.entries = new Map(); // key -> message (plain object, with `_key`, `_seq`)
    this.byId = new Map(); // server id -> key
    this.pendingStatus = new Map(); // id -> status that arrived before the message
    this.hasMoreBefore = false;
    this.loaded = false;
    this.loadingOlder = false;
  }

  get size() {
    return this.entries.size;
  }

  /** Find a message by server id. */
  get(id) {
    const key = this.byId.get(id);
    return key ? this.entries.get(key) : undefined;
  }

  /** Find by key (the DOM's data-key). */
  getByKey(key) {
    return this.entries.get(key);
  }

  /**
   * Merge a message (from the server, or a local optimistic copy). Returns
   * {msg, isNew, changed}. An older version (by updatedAt) never overwrites a newer one.
   */
  upsert(incoming) {
    let key = incoming.id ? this.byId.get(incoming.id) : undefined;
    if (!key) key = keyFor(incoming);
    const existing = this.entries.get(key);
    if (!existing) {
      const msg = { ...incoming, _key: key, _seq: ++localSeq };
      const early = msg.id && this.pendingStatus.get(msg.id);
      if (early) {
        msg.status = bestStatus(msg.status, early);
        this.pendingStatus.delete(msg.id);
      }
      this.entries.set(key, msg);
      if (msg.id) this.byId.set(msg.id, key);
      return { msg, isNew: true, changed: true };
    }
    const status = bestStatus(existing.status, incoming.status);
    const stale =
      existing.id &&
      incoming.updatedAt &&
      existing.updatedAt &&
      incoming.updatedAt < existing.updatedAt;
    const before = JSON.stringify(existing);
    if (!stale) {
      for (const [k, v] of Object.entries(incoming)) {
        if (k !== "status" && k !== "_key" && k !== "_seq") existing[k] = v;
      }
    } else if (!existing.id && incoming.id) {
      existing.id = incoming.id;
    }
    existing.status = status;
    if (existing.id) this.byId.set(existing.id, key);
    const early = existing.id && this.pendingStatus.get(existing.id);
    if (early) {
      existing.status = bestStatus(existing.status, early);
      this.pendingStatus.delete(existing.id);
    }
    return { msg: existing, isNew: false, changed: before !== JSON.stringify(existing) };
  }

  /** Forget a local message the server refused (it was never stored). */
  remove(key) {
    const msg = this.entries.get(key);
    if (!msg) return;
    this.entries.delete(key);
    if (msg.id) this.byId.delete(msg.id);
  }

  /** Apply `message:status` to the messages it names; returns the changed messages. */
  setStatus(ids, status) {
    const changed = [];
    for (const id of ids) {
      const msg = this.get(id);
      if (!msg) {
        this.pendingStatus.set(id, bestStatus(this.pendingStatus.get(id), status));
        continue;
      }
      const next = bestStatus(msg.status, status);
      if (next !== msg.status) {
        msg.status = next;
        changed.push(msg);
      }
    }
    return changed;
  }

  /**
   * Every message in display order: stored ones by id (ids are time-ordered), then the ones
   * still waiting for their id in the order they were written.
   */
  sorted() {
    return [...this.entries.values()].sort((a, b) => {
      if (a.id && b.id) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      if (a.id) return -1;
      if (b.id) return 1;
      return a._seq - b._seq;
    });
  }

  /** The oldest stored message id (for `before=`). */
  oldestId() {
    let min;
    for (const id of this.byId.keys()) if (min === undefined || id < min) min = id;
    return min;
  }

  /** The newest stored message id (for the read/delivered watermarks). */
  newestId() {
    let max;
    for (const id of this.byId.keys()) if (max === undefined || id > max) max = id;
    return max;
  }
}
