// Commands (writes) on their way to the server over the WebSocket. A command
// sent while the connection is down waits in the queue (kept in
// sessionStorage, so a reload does not lose it) and goes out when the
// connection is back. A command whose connection drops before the server
// answered, or that the server refuses, is listed as failed with its text,
// so the user can retry or dismiss it: nothing is dropped silently.
//
// Every command carries an idempotency key, made when the user makes the
// change and kept with it (also across reloads): a Retry sends the same key,
// so a change the server applied before its answer was lost is answered
// again instead of being applied twice.

const KEY = 'htrac-outbox';
const REPLY_TIMEOUT_MS = 30000;
const IN_PROGRESS_RETRY_MS = 1000;
const listeners = new Set();

let transport = { isOpen: () => false, send: () => false };
let counter = 0;
/** id → {id, action, fields, label, state, error, code, at, handled, resolve, reject, timer} */
const entries = new Map();

function persist() {
  const keep = [...entries.values()]
    .filter((e) => e.state === 'queued' || e.state === 'failed')
    .map(({ id, key, action, fields, label, state, error, code, at }) => (
      { id, key, action, fields, label, state, error, code, at }));
  try {
    sessionStorage.setItem(KEY, JSON.stringify(keep));
  } catch (e) {
    // Storage full or disabled: the queue still works for this page.
  }
}

/** A random UUID (version 4): the idempotency key of one change. */
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function changed() {
  persist();
  for (const fn of listeners) fn();
}

/** Restores queued and failed commands saved by an earlier load of this tab. */
export function restore() {
  let saved = [];
  try {
    saved = JSON.parse(sessionStorage.getItem(KEY) || '[]');
  } catch (e) {
    saved = [];
  }
  for (const e of saved) {
    if (!e || !e.id || entries.has(e.id)) continue;
    entries.set(e.id, { ...e, key: e.key || newKey(), state: e.state === 'failed' ? 'failed' : 'queued' });
  }
  changed();
}

/** The live connection: `isOpen()` and `send(obj) → bool`. */
export function setTransport(t) {
  transport = t;
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function list() {
  return [...entries.values()];
}

export function counts() {
  let queued = 0;
  let sending = 0;
  let failed = 0;
  for (const e of entries.values()) {
    if (e.state === 'queued') queued += 1;
    else if (e.state === 'sent') sending += 1;
    else if (e.state === 'failed') failed += 1;
  }
  return { queued, sending, failed };
}

/** Failure and success announcements for commands nobody is waiting on. */
let announce = () => {};
export function setAnnouncer(fn) {
  announce = fn;
}

function sendEntry(e) {
  const msg = { type: 'command', id: e.id, action: e.action, ...e.fields, idempotency_key: e.key };
  if (!transport.isOpen() || !transport.send(msg)) return false;
  e.state = 'sent';
  e.at = Date.now();
  clearTimeout(e.timer);
  e.timer = setTimeout(() => fail(e, 'no_reply',
    'The server did not answer within 30 s; the change may or may not have been applied. Retry is safe: the server applies a change once.'),
  REPLY_TIMEOUT_MS);
  return true;
}

/**
 * Sends a write command. `fields` are the REST body fields plus `item` (the
 * item id). Returns {queued, promise}: `queued` is true when the connection
 * is down and the command waits; `promise` resolves with the server's result
 * or rejects with {error, code}.
 */
export function submit(action, fields, label) {
  counter += 1;
  const id = `c${Date.now().toString(36)}${counter}`;
  const e = { id, key: newKey(), action, fields, label, state: 'queued', at: Date.now(), handled: false };
  const promise = new Promise((resolve, reject) => {
    e.resolve = resolve;
    e.reject = reject;
  });
  // Callers that do not wait for the answer must not cause "unhandled
  // rejection" noise; failures are announced and listed instead.
  promise.catch(() => {});
  entries.set(id, e);
  const sent = sendEntry(e);
  changed();
  return { queued: !sent, promise, entry: e };
}

/** Sends everything queued, oldest first (called when the connection opens). */
export function flush() {
  let any = false;
  for (const e of entries.values()) {
    if (e.state === 'queued') {
      if (!sendEntry(e)) break;
      any = true;
    }
  }
  if (any) changed();
}

/**
 * Whether a failure `code` leaves it unknown if the server applied the
 * change (the answer was lost): such a command stays in the outbox, where
 * Retry resends it under its key, even when a view was waiting for it.
 */
export function outcomeUnknown(code) {
  return code === 'connection_lost' || code === 'no_reply';
}

function fail(e, code, error) {
  clearTimeout(e.timer);
  e.state = 'failed';
  e.code = code;
  e.error = error;
  if (e.reject) e.reject({ error, code });
  if (!e.handled) announce({ kind: 'error', text: `${e.label}: ${error}` });
  else if (!outcomeUnknown(code)) entries.delete(e.id);
  changed();
}

/** Handles a `result` or `error` message; returns false if it is not ours. */
export function reply(msg) {
  const e = msg.id ? entries.get(msg.id) : null;
  if (!e) return false;
  if (msg.type === 'error' && msg.code === 'unauthenticated') {
    // The session ended: keep the command queued for after the next sign-in.
    clearTimeout(e.timer);
    e.state = 'queued';
    changed();
    return true;
  }
  if (msg.type === 'error' && msg.code === 'in_progress') {
    // The first attempt under this key is still being applied: ask again
    // shortly for its answer (the same key never applies it twice).
    clearTimeout(e.timer);
    e.state = 'queued';
    e.timer = setTimeout(() => {
      if (e.state === 'queued' && sendEntry(e)) changed();
    }, IN_PROGRESS_RETRY_MS);
    changed();
    return true;
  }
  if (msg.type === 'result' && msg.ok !== false) {
    clearTimeout(e.timer);
    entries.delete(e.id);
    // htrac-serve nests the REST-shaped answer in `data`; accept it flat too.
    if (e.resolve) e.resolve(msg.data && typeof msg.data === 'object' ? msg.data : msg);
    if (!e.handled) {
      const text = msg.replayed
        ? `Done: ${e.label} (the server had applied it before the connection dropped)`
        : `Done: ${e.label}`;
      announce({ kind: 'ok', text });
    }
    changed();
  } else {
    fail(e, msg.code || 'error', msg.error || msg.message || 'The server refused this change.');
  }
  return true;
}

/** The connection dropped: commands still waiting for an answer have failed. */
export function connectionLost() {
  for (const e of [...entries.values()]) {
    if (e.state === 'sent') {
      fail(e, 'connection_lost',
        'The connection dropped before the server confirmed this change; it may or may not have been applied. Retry is safe: the server applies a change once.');
    }
  }
}

/** Puts a failed command back in the queue (sent at once when connected). */
export function retry(id) {
  const e = entries.get(id);
  if (!e || e.state !== 'failed') return;
  e.state = 'queued';
  e.error = null;
  e.code = null;
  e.handled = false;
  e.resolve = null;
  e.reject = null;
  sendEntry(e);
  changed();
}

/** Forgets a failed command, or cancels a queued one. */
export function drop(id) {
  const e = entries.get(id);
  if (!e || e.state === 'sent') return;
  clearTimeout(e.timer);
  entries.delete(id);
  if (e.reject && e.state === 'queued') e.reject({ error: 'Cancelled.', code: 'cancelled' });
  changed();
}
