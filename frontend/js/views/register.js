// The one-time passkey registration screen (#register=<token>, printed by
// `htrac-serve register-key`).

import { byId } from '../dom.js';
import { api } from '../api.js';
import { passkeysAvailable, createCredential } from '../passkey.js';
import { showScreen } from './shell.js';

let token = '';

async function register() {
  const status = byId('register-status');
  const button = byId('register-button');
  status.className = 'form-error';
  status.textContent = '';
  button.disabled = true;
  try {
    const start = await api.passkeyRegisterStart(token);
    const { ceremony, credential } = await createCredential(start);
    const res = await api.passkeyRegisterFinish(ceremony, credential);
    status.className = 'form-ok';
    status.textContent = `Passkey registered${res && res.user ? ` for ${res.user}` : ''}. You can now sign in with it.`;
    button.hidden = true;
    history.replaceState(null, '', '/');
  } catch (e) {
    if (e.name === 'NotAllowedError') status.textContent = 'The passkey request was cancelled or timed out. Try again.';
    else if (e.name === 'InvalidStateError') status.textContent = 'This authenticator is already registered.';
    else if (e.status === 401 || e.status === 403 || e.status === 404) {
      status.textContent = `${e.message}\nThe link may have expired or been used: run 'htrac-serve register-key' again.`;
    } else status.textContent = e.message || String(e);
    button.disabled = false;
  }
}

export function show(t) {
  token = t;
  showScreen('register-view');
  const status = byId('register-status');
  const button = byId('register-button');
  if (!passkeysAvailable()) {
    status.textContent = 'This browser cannot create passkeys here: passkeys need https or http://localhost.';
    button.disabled = true;
  } else {
    status.textContent = '';
    button.disabled = false;
    button.hidden = false;
    button.focus();
  }
}

export function init() {
  byId('register-button').addEventListener('click', register);
}
