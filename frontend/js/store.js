// The page's state: the items the server sent (snapshot + deltas, by seq),
// the tracker config, who is logged in, and change notifications.

const listeners = new Set();

export const store = {
  /** id → Item (the CLI's `show --json` object). */
  items: new Map(),
  /** Seq of the last snapshot or delta applied; null before the first snapshot. */
  seq: null,
  /** Whether a snapshot has arrived since the page loaded. */
  loaded: false,
  /** /api/config, normalised by setConfig. */
  config: { statuses: [], kinds: [], tags: [], tiers: [], readyStatuses: [], lockable: [] },
  /** /api/auth/me: {user, csrf, human}. */
  me: null,
};

/** Calls `fn(reason)` after every change; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function notify(reason) {
  for (const fn of listeners) {
    try {
      fn(reason);
    } catch (e) {
      console.error('view update failed', e);
    }
  }
}

/** Replaces every item (a `snapshot` message). */
export function applySnapshot(msg) {
  store.items = new Map((msg.items || []).map((it) => [it.id, it]));
  store.seq = typeof msg.seq === 'number' ? msg.seq : store.seq;
  store.loaded = true;
  notify('snapshot');
}

/**
 * Applies a `delta` message. Returns 'applied', 'old' (seq already seen:
 * ignored) or 'gap' (deltas are missing: the caller asks to resume).
 */
export function applyDelta(msg) {
  if (typeof msg.seq === 'number' && store.seq !== null) {
    if (msg.seq <= store.seq) return 'old';
    if (msg.seq > store.seq + 1) return 'gap';
  }
  for (const it of msg.items || []) store.items.set(it.id, it);
  for (const id of msg.removed || []) store.items.delete(id);
  if (typeof msg.seq === 'number') store.seq = msg.seq;
  notify('delta');
  return 'applied';
}

/** Puts one item we got from a command reply or REST (newer than what we hold). */
export function putItem(item) {
  if (!item || !item.id) return;
  store.items.set(item.id, item);
  notify('item');
}

const FALLBACK_LOCKABLE = ['title', 'status', 'priority', 'parent', 'tags', 'isbefore',
  'duplicate_of', 'not_duplicate_of', 'pr_ref', 'description', 'fields', 'discussion'];

function names(list) {
  return (list || []).map((x) => (typeof x === 'string' ? x : x && x.name)).filter(Boolean);
}

/** Normalises /api/config: kinds become [{name, prefix, description, fields_schema, allowed_statuses}]. */
export function setConfig(cfg) {
  const c = cfg || {};
  let kinds = c.kinds || [];
  if (!Array.isArray(kinds)) {
    kinds = Object.entries(kinds).map(([name, k]) => ({ name, ...(k || {}) }));
  }
  kinds = kinds.map((k) => (typeof k === 'string' ? { name: k } : k)).filter((k) => k && k.name);
  store.config = {
    statuses: names(c.statuses),
    kinds,
    tags: names(c.tags || c.well_known_tags),
    tiers: names(c.tiers).length ? names(c.tiers) : ['canonical', 'workspace', 'stealth'],
    readyStatuses: names(c.ready_statuses),
    lockable: names(c.lockable_fields).length ? names(c.lockable_fields) : FALLBACK_LOCKABLE,
    defaultStatus: c.default_status || null,
  };
  notify('config');
}

export function kindInfo(name) {
  return store.config.kinds.find((k) => k.name === name) || { name };
}

/** Statuses allowed for a kind (its allowed_statuses, else all). */
export function statusesFor(kind) {
  const k = kindInfo(kind);
  const allowed = names(k.allowed_statuses);
  return allowed.length ? allowed : store.config.statuses;
}

/** The item ids an item comes before (`isbefore`; older servers: `before`). */
export function beforeOf(item) {
  return names(item.isbefore || item.before || []).map(String);
}

/** Items that come before `id` (they list it in isbefore): what it waits for. */
export function afterOf(id) {
  return [...store.items.values()].filter((it) => beforeOf(it).includes(id));
}

export function childrenOf(id) {
  return [...store.items.values()].filter((it) => it.parent === id);
}

/** Every tag used by any item or named in the config, sorted. */
export function allTags() {
  const set = new Set(store.config.tags);
  for (const it of store.items.values()) for (const t of it.tags || []) set.add(String(t));
  return [...set].sort();
}

/** Sorts like `htrac list`: priority, then creation time. */
export function byPriority(a, b) {
  const pa = typeof a.priority === 'number' ? a.priority : Number.MAX_SAFE_INTEGER;
  const pb = typeof b.priority === 'number' ? b.priority : Number.MAX_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  return String(a.created_at || '').localeCompare(String(b.created_at || ''));
}

/** Finds an item by exact id or unique prefix among the loaded items. */
export function findItem(id) {
  if (store.items.has(id)) return store.items.get(id);
  const hits = [...store.items.keys()].filter((k) => k.startsWith(id));
  return hits.length === 1 ? store.items.get(hits[0]) : null;
}
