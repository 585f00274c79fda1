// The page frame: which screen shows (sign-in, registration, tracker), the
// top bar (views, connection indicator, user, log out), the panel of unsent
// changes, and short messages (toasts).

import { h, byId, fill } from '../dom.js';
import * as ws from '../ws.js';
import * as outbox from '../outbox.js';

const SCREENS = ['login-view', 'register-view', 'app-view'];

/** Shows one screen and hides the others. */
export function showScreen(id) {
  byId('boot').hidden = true;
  for (const s of SCREENS) byId(s).hidden = s !== id;
}

/** Shows a message. kind: 'ok' | 'info' | 'error'. Errors stay until dismissed. */
export function toast({ kind = 'info', text }) {
  const box = byId('toasts');
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss message', text: '×' });
  const el = h('div', { class: 'toast', dataset: { kind }, role: kind === 'error' ? 'alert' : 'status' },
    h('p', { text }), close);
  close.addEventListener('click', () => el.remove());
  box.appendChild(el);
  if (kind !== 'error') setTimeout(() => el.remove(), 6000);
  while (box.children.length > 5) box.firstElementChild.remove();
}

function describe(e) {
  const f = e.fields || {};
  return f.message || f.title || '';
}

function renderOutbox() {
  const entries = outbox.list();
  const rows = entries.map((e) => {
    const buttons = [];
    if (e.state === 'failed') {
      buttons.push(h('button', { type: 'button', text: 'Retry', onclick: () => outbox.retry(e.id) }));
      buttons.push(h('button', { type: 'button', text: 'Dismiss', onclick: () => outbox.drop(e.id) }));
    } else if (e.state === 'queued') {
      buttons.push(h('button', { type: 'button', text: 'Cancel', onclick: () => outbox.drop(e.id) }));
    }
    const state = { queued: 'waiting for the connection', sent: 'sent, waiting for the answer', failed: 'failed' }[e.state];
    const body = describe(e);
    return h('li', { dataset: { state: e.state } },
      h('div', { class: 'what' }, `${e.label} — ${state}`),
      body ? h('div', { class: 'body', text: body }) : null,
      e.error ? h('div', { class: 'form-error', text: e.error }) : null,
      buttons);
  });
  fill(byId('outbox-list'), rows.length ? rows : h('li', { class: 'muted', text: 'No unsent changes.' }));
  renderIndicator();
}

function plural(n, word) {
  return `${n} ${word}`;
}

let tick = null;

function renderIndicator() {
  const btn = byId('conn');
  const { state, retryAt } = ws.status;
  btn.dataset.state = state;
  let text = { live: 'Live', connecting: 'Connecting…', stopped: 'Not connected' }[state];
  let detail = {
    live: 'Connected: changes from everyone show up as they happen.',
    connecting: 'Connecting to the server…',
    stopped: 'Not connected.',
  }[state];
  if (state === 'offline') {
    const secs = Math.max(0, Math.ceil(((retryAt || Date.now()) - Date.now()) / 1000));
    text = `Offline · retry in ${secs} s`;
    detail = `The live connection is down. Next attempt in ${secs} s; changes you make now wait here and are sent when it is back.`;
  }
  const c = outbox.counts();
  const extra = [];
  if (c.queued) extra.push(plural(c.queued, 'queued'));
  if (c.sending) extra.push(plural(c.sending, 'sending'));
  if (c.failed) extra.push(plural(c.failed, 'failed'));
  byId('conn-text').textContent = [text, ...extra].join(' · ');
  byId('conn-detail').textContent = detail;
  byId('reconnect').hidden = state !== 'offline';
  if (c.failed && !btn.dataset.failedShown) {
    // Make a new failure visible without a click.
    btn.dataset.failedShown = '1';
    setPanel(true);
  }
  if (!c.failed) delete btn.dataset.failedShown;
  clearTimeout(tick);
  if (state === 'offline') tick = setTimeout(renderIndicator, 1000);
}

function setPanel(open) {
  byId('conn-panel').hidden = !open;
  byId('conn').setAttribute('aria-expanded', String(open));
}

/** Marks the current view in the nav. */
export function setNav(view) {
  byId('nav-ready').toggleAttribute('aria-current', false);
  byId('nav-all').toggleAttribute('aria-current', false);
  byId('nav-trend').toggleAttribute('aria-current', false);
  const el = { all: 'nav-all', ready: 'nav-ready', trend: 'nav-trend' }[view];
  if (el) byId(el).setAttribute('aria-current', 'page');
}

export function setUser(name) {
  byId('user-name').textContent = name || '';
}

/** Wires the top bar once. `onLogout` runs when Log out is pressed. */
export function init({ onLogout, onNewItem }) {
  byId('conn').addEventListener('click', () => setPanel(byId('conn-panel').hidden));
  byId('reconnect').addEventListener('click', () => ws.reconnectNow());
  byId('logout').addEventListener('click', onLogout);
  byId('new-item').addEventListener('click', onNewItem);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !byId('conn-panel').hidden && !document.querySelector('dialog[open]')) {
      setPanel(false);
      byId('conn').focus();
    }
  });
  ws.onStatus(renderIndicator);
  outbox.onChange(renderOutbox);
  outbox.setAnnouncer(toast);
  renderOutbox();
}
