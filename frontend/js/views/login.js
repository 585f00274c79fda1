// The sign-in screen: user name and password, or a passkey when the server
// has passkeys configured and the browser supports them.

import { byId } from '../dom.js';
import { api } from '../api.js';
import { passkeysAvailable, getAssertion } from '../passkey.js';
import { showScreen } from './shell.js';

let onLoggedIn = () => {};

function explain(e) {
  if (e.code === 'bad_credentials' || e.status === 401) return 'Wrong user name or password.';
  if (e.code === 'rate_limited' || e.status === 429) {
    const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : ' Try again later.';
    return `Too many failed attempts.${wait}`;
  }
  return e.message || String(e);
}

async function withPassword(ev) {
  ev.preventDefault();
  const user = byId('login-user');
  const password = byId('login-password');
  const err = byId('login-error');
  err.textContent = '';
  if (!user.value.trim()) {
    err.textContent = 'Enter your user name.';
    user.focus();
    return;
  }
  if (!password.value) {
    err.textContent = 'Enter your password.';
    password.focus();
    return;
  }
  const button = byId('login-submit');
  button.disabled = true;
  try {
    const res = await api.login(user.value.trim(), password.value);
    password.value = '';
    await onLoggedIn(res);
  } catch (e) {
    err.textContent = explain(e);
    password.select();
  } finally {
    button.disabled = false;
  }
}

async function withPasskey() {
  const err = byId('login-error');
  err.textContent = '';
  const button = byId('passkey-login');
  button.disabled = true;
  try {
    const start = await api.passkeyLoginStart();
    const { ceremony, credential } = await getAssertion(start);
    const res = await api.passkeyLoginFinish(ceremony, credential);
    await onLoggedIn(res);
  } catch (e) {
    err.textContent = e.name === 'NotAllowedError'
      ? 'The passkey request was cancelled or timed out.'
      : explain(e);
  } finally {
    button.disabled = false;
  }
}

/** Shows the sign-in screen, with `note` (e.g. "your session has ended") if given. */
export async function show(note) {
  showScreen('login-view');
  const n = byId('login-note');
  n.hidden = !note;
  n.textContent = note || '';
  byId('login-user').focus();
  try {
    const m = await api.methods();
    byId('passkey-box').hidden = !(m && m.passkey && passkeysAvailable());
  } catch (e) {
    byId('passkey-box').hidden = !passkeysAvailable();
  }
}

export function init(loggedIn) {
  onLoggedIn = loggedIn;
  byId('login-form').addEventListener('submit', withPassword);
  byId('passkey-login').addEventListener('click', withPasskey);
}
