// REST calls to htrac-serve: JSON in and out, the session cookie, and the
// CSRF token (header X-CSRF-Token) on every POST.

let csrf = '';
let onUnauthenticated = () => {};

/** Runs `fn` when a call (other than sign-in and /api/auth/me) answers 401. */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/** Remembers the CSRF token from a login or /api/auth/me answer. */
export function setCsrf(token) {
  csrf = token || '';
}

/** An error from the server (or the network) with the server's `code`. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check that htrac-serve is running.');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    const code = (data && data.code) || `http_${res.status}`;
    const message = (data && data.error) || `The server answered ${res.status} ${res.statusText}.`;
    if (res.status === 401 && !path.startsWith('/api/auth/')) onUnauthenticated();
    throw new ApiError(res.status, code, message, res.headers.get('Retry-After'));
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);

export const api = {
  me: () => get('/api/auth/me'),
  methods: () => get('/api/auth/methods'),
  login: (user, password) => post('/api/auth/login', { user, password }),
  logout: () => post('/api/auth/logout', {}),
  config: () => get('/api/config'),
  ready: () => get('/api/ready'),
  trend: () => get('/api/priority-trend'),
  item: (id) => get(`/api/items/${encodeURIComponent(id)}`),
  passkeyLoginStart: () => post('/api/auth/passkey/login/start', {}),
  passkeyLoginFinish: (ceremony, credential) =>
    post('/api/auth/passkey/login/finish', { ceremony, credential }),
  passkeyRegisterStart: (token) => post('/api/auth/passkey/register/start', { token }),
  passkeyRegisterFinish: (ceremony, credential) =>
    post('/api/auth/passkey/register/finish', { ceremony, credential }),
};
