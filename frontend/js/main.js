// Start-up: registers the service worker (named after the build), decides
// which screen to show (registration link, sign-in, or the tracker), and
// routes #/ready, #/all and #/item/<id> to the list and item panes, and
// #/trend to the priority chart.

import { byId } from './dom.js';
import { api, setCsrf, setUnauthenticatedHandler } from './api.js';
import { store, subscribe, setConfig } from './store.js';
import * as ws from './ws.js';
import * as outbox from './outbox.js';
import { parse, go } from './router.js';
import * as shell from './views/shell.js';
import * as login from './views/login.js';
import * as register from './views/register.js';
import * as list from './views/list.js';
import * as detail from './views/detail.js';
import * as forms from './views/forms.js';
import * as trend from './views/trend.js';

// Spelled in two parts: the server replaces the whole word in served files.
const PLACEHOLDER = ['__HTRAC', 'BUILD__'].join('_');

/** The build id the server put in <meta name="htrac-build">, or 'dev'. */
function buildId() {
  const meta = document.querySelector('meta[name="htrac-build"]');
  const v = meta ? meta.getAttribute('content') : '';
  return v && v !== PLACEHOLDER ? v : 'dev';
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(`/service-worker.js?v=${encodeURIComponent(buildId())}`, { scope: '/' })
    .catch((e) => console.warn('service worker not registered:', e && e.message));
}

let started = false;

function route() {
  const r = parse();
  if (r.view === 'register') {
    register.show(r.token);
    return;
  }
  if (!started) return;
  shell.setNav(r.view === 'item' ? list.currentMode() : r.view);
  trend.show(r.view === 'trend');
  if (r.view === 'trend') {
    document.body.classList.remove('detail-open');
  } else if (r.view === 'item') {
    document.body.classList.add('detail-open');
    list.setSelected(r.id);
    detail.show(r.id, { focus: true });
  } else {
    document.body.classList.remove('detail-open');
    list.show(r);
    list.setSelected(null);
    detail.show(null);
  }
  // Which route the panes now show (the hash changes first; this follows
  // once the layout is switched), for scripts and tests to wait on.
  document.body.dataset.route = r.view;
}

async function startApp(me) {
  store.me = me;
  setCsrf(me.csrf);
  shell.setUser(me.user);
  shell.showScreen('app-view');
  started = true;
  try {
    setConfig(await api.config());
  } catch (e) {
    shell.toast({ kind: 'error', text: `Could not load the tracker configuration: ${e.message}` });
  }
  ws.start();
  if (parse().view === 'register') go('#/ready');
  else route();
}

function signedOut(note) {
  started = false;
  ws.stop();
  store.me = null;
  store.items = new Map();
  store.seq = null;
  store.loaded = false;
  setCsrf('');
  forms.close();
  list.reset();
  detail.show(null);
  login.show(note);
}

/** The live connection failed before its first message: is the session gone? */
async function checkSession() {
  try {
    await api.me();
  } catch (e) {
    if (e.status === 401) signedOut('Your session has ended. Sign in again; unsent changes are kept and sent after you sign in.');
  }
}

async function logout() {
  const c = outbox.counts();
  const unsent = c.queued + c.sending + c.failed;
  if (unsent && !window.confirm(`${unsent} change(s) have not reached the server. Log out anyway? They stay in this tab and are sent after you sign in again.`)) {
    return;
  }
  try {
    await api.logout();
  } catch (e) {
    if (e.status !== 401) {
      shell.toast({ kind: 'error', text: `Logging out failed: ${e.message}` });
      return;
    }
  }
  signedOut('You have logged out.');
}

async function boot() {
  registerServiceWorker();
  outbox.restore();
  shell.init({ onLogout: logout, onNewItem: () => forms.openNew() });
  login.init(async (res) => {
    // The login answer has the user and CSRF token; /api/auth/me adds `human`.
    setCsrf(res && res.csrf);
    let me = res;
    try {
      me = await api.me();
    } catch (e) {
      me = { human: false, ...res };
    }
    await startApp(me);
  });
  register.init();
  list.init();
  forms.init();
  ws.configure({ onHandshakeFailed: checkSession, onNotice: shell.toast });
  setUnauthenticatedHandler(() => {
    if (started) signedOut('Your session has ended. Sign in again; unsent changes are kept and sent after you sign in.');
  });
  subscribe((reason) => {
    if (!started) return;
    if (reason === 'config') list.render();
    else list.itemsChanged();
    detail.render();
  });
  byId('back').addEventListener('click', () => go(list.listHref()));
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (ev) => {
    // Esc on a phone-width item page goes back to the list.
    if (ev.key === 'Escape' && document.body.classList.contains('detail-open') && !document.querySelector('dialog[open]')
      && window.matchMedia('(max-width: 768px)').matches) {
      go(list.listHref());
    }
  });

  const r = parse();
  if (r.view === 'register') {
    route();
    return;
  }
  try {
    await startApp(await api.me());
  } catch (e) {
    if (e.status === 401) login.show();
    else login.show(`The server could not be reached (${e.message}). Reload the page to try again.`);
  }
}

boot();

