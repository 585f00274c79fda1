// The live connection (GET /ws): a snapshot, then deltas numbered by seq.
// Reconnects with a backoff of 1 s doubling to 30 s, resumes from the last
// seq it applied, carries the outbox's commands, and reports its state for
// the connection indicator.

import { store, applySnapshot, applyDelta } from './store.js';
import * as outbox from './outbox.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
const PING_EVERY = 25000;
const PONG_WAIT = 10000;

let socket = null;
let delay = MIN_DELAY;
let retryTimer = null;
let pingTimer = null;
let pongTimer = null;
let stopped = true;
let gotMessage = false;
const listeners = new Set();

/** {state: 'connecting'|'live'|'offline'|'stopped', retryAt: ms timestamp|null} */
export const status = { state: 'stopped', retryAt: null };

/** Called when a connection fails before any message: the session may be gone. */
let onHandshakeFailed = () => {};
/** Called with {kind, text} for server messages nobody else handles. */
let onNotice = () => {};

export function configure(hooks) {
  onHandshakeFailed = hooks.onHandshakeFailed || onHandshakeFailed;
  onNotice = hooks.onNotice || onNotice;
}

export function onStatus(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setStatus(state, retryAt = null) {
  status.state = state;
  status.retryAt = retryAt;
  for (const fn of listeners) fn(status);
}

function isOpen() {
  return Boolean(socket && socket.readyState === WebSocket.OPEN);
}

function send(obj) {
  if (!isOpen()) return false;
  try {
    socket.send(JSON.stringify(obj));
    return true;
  } catch (e) {
    return false;
  }
}

outbox.setTransport({ isOpen, send });

function url() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const resume = store.seq !== null ? `?resume=${encodeURIComponent(store.seq)}` : '';
  return `${proto}//${location.host}/ws${resume}`;
}

function clearTimers() {
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
  retryTimer = null;
  pingTimer = null;
  pongTimer = null;
}

function handle(msg) {
  if (!gotMessage) {
    gotMessage = true;
    delay = MIN_DELAY;
  }
  switch (msg.type) {
    case 'snapshot':
      applySnapshot(msg);
      break;
    case 'delta':
      if (applyDelta(msg) === 'gap') send({ type: 'resume', seq: store.seq });
      break;
    case 'result':
    case 'error':
      if (msg.type === 'error' && msg.code === 'unauthenticated') onHandshakeFailed();
      if (!outbox.reply(msg) && msg.type === 'error') {
        onNotice({ kind: 'error', text: msg.error || msg.message || 'The server reported an error.' });
      }
      break;
    case 'pong':
      clearTimeout(pongTimer);
      pongTimer = null;
      break;
    default:
      break;
  }
}

/** Opens the connection (after login). */
export function start() {
  stopped = false;
  connect();
}

function connect() {
  clearTimers();
  if (stopped) return;
  gotMessage = false;
  setStatus('connecting');
  let ws;
  try {
    ws = new WebSocket(url());
  } catch (e) {
    scheduleRetry();
    return;
  }
  socket = ws;
  ws.addEventListener('open', () => {
    if (socket !== ws) return;
    setStatus('live');
    if (store.seq !== null) send({ type: 'resume', seq: store.seq });
    outbox.flush();
    pingTimer = setInterval(() => {
      if (!send({ type: 'ping' })) return;
      clearTimeout(pongTimer);
      pongTimer = setTimeout(() => {
        lost(ws);
        ws.close(4000, 'no pong');
      }, PONG_WAIT);
    }, PING_EVERY);
  });
  ws.addEventListener('message', (ev) => {
    if (socket !== ws) return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    if (msg && typeof msg === 'object') handle(msg);
  });
  ws.addEventListener('close', () => lost(ws));
}

/** The socket `ws` is gone (closed, or abandoned): fail its commands, retry later. */
function lost(ws) {
  if (socket !== ws) return;
  socket = null;
  clearTimers();
  outbox.connectionLost();
  if (stopped) {
    setStatus('stopped');
    return;
  }
  if (!gotMessage) onHandshakeFailed();
  scheduleRetry();
}

function scheduleRetry() {
  if (stopped) return;
  const wait = delay;
  delay = Math.min(delay * 2, MAX_DELAY);
  setStatus('offline', Date.now() + wait);
  retryTimer = setTimeout(connect, wait);
}

/** Tries again now (the indicator's button, or the browser coming back online). */
export function reconnectNow() {
  if (stopped || isOpen() || status.state === 'connecting') return;
  connect();
}

/** Closes for good (logout, or the session is gone). */
export function stop() {
  stopped = true;
  clearTimers();
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000, 'logout');
  outbox.connectionLost();
  setStatus('stopped');
}

window.addEventListener('online', () => reconnectNow());
window.addEventListener('offline', () => {
  // The browser knows the network is gone: do not wait for a dead socket.
  // Closing may wait for a handshake that cannot happen, so give up on the
  // socket first, then close it.
  const ws = socket;
  if (!ws) return;
  lost(ws);
  ws.close(4001, 'offline');
});
