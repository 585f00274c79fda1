// Passkeys (WebAuthn) in the browser: the server sends the options with
// binary members as base64url strings; navigator.credentials wants
// ArrayBuffers, and the answer goes back as JSON with base64url strings.

/** base64url (padding optional; plain base64 accepted too) → ArrayBuffer. */
export function fromB64url(text) {
  const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

/** ArrayBuffer or view → unpadded base64url. */
export function toB64url(buf) {
  if (buf === null || buf === undefined) return null;
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf)
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 1) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function convertList(list) {
  return (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));
}

/** The server's request options (get) with ArrayBuffers where WebAuthn needs them. */
export function requestOptions(pk) {
  const out = { ...pk, challenge: fromB64url(pk.challenge) };
  if (pk.allowCredentials) out.allowCredentials = convertList(pk.allowCredentials);
  return out;
}

/** The server's creation options (create) with ArrayBuffers where WebAuthn needs them. */
export function creationOptions(pk) {
  const out = { ...pk, challenge: fromB64url(pk.challenge) };
  if (pk.user) out.user = { ...pk.user, id: fromB64url(pk.user.id) };
  if (pk.excludeCredentials) out.excludeCredentials = convertList(pk.excludeCredentials);
  return out;
}

function baseJson(cred) {
  let extensions = {};
  try {
    extensions = cred.getClientExtensionResults ? cred.getClientExtensionResults() : {};
  } catch (e) {
    extensions = {};
  }
  return { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, extensions };
}

/** A login assertion as JSON for /api/auth/passkey/login/finish. */
export function assertionJson(cred) {
  const r = cred.response;
  return {
    ...baseJson(cred),
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
  };
}

const KNOWN_TRANSPORTS = ['usb', 'nfc', 'ble', 'internal', 'hybrid'];

/** A new credential as JSON for /api/auth/passkey/register/finish. */
export function attestationJson(cred) {
  const r = cred.response;
  const response = {
    attestationObject: toB64url(r.attestationObject),
    clientDataJSON: toB64url(r.clientDataJSON),
  };
  // Only the transports webauthn-rs knows: an unknown name would make the
  // server refuse the whole credential.
  if (typeof r.getTransports === 'function') {
    response.transports = r.getTransports().filter((t) => KNOWN_TRANSPORTS.includes(t));
  }
  return { ...baseJson(cred), response };
}

/** Whether this browser can do passkeys at all (needs a secure context). */
export function passkeysAvailable() {
  return Boolean(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
}

// The contract puts the options in `publicKey`; webauthn-rs serialises its
// challenge responses as {"publicKey": {...}}, so accept one extra level.
function options(start) {
  const pk = start && start.publicKey;
  if (!pk) throw new Error('The server sent no passkey options.');
  return pk.publicKey && pk.publicKey.challenge ? pk.publicKey : pk;
}

/**
 * Why this page cannot use the passkeys of relying party `rpId`, or null:
 * the browser only offers them on that host name (or one under it), so a
 * page opened as http://127.0.0.1:7380 cannot use keys made for localhost.
 */
export function wrongSite(rpId, loc = window.location) {
  const host = loc.hostname;
  if (!rpId || host === rpId || host.endsWith(`.${rpId}`)) return null;
  const port = loc.port ? `:${loc.port}` : '';
  return `Passkeys for this server belong to ${rpId}, and this page is open as ${host}: `
    + `open ${loc.protocol}//${rpId}${port}/ to use them.`;
}

function checkSite(rpId) {
  const why = wrongSite(rpId);
  if (why) {
    const e = new Error(why);
    e.name = 'WrongSite';
    throw e;
  }
}

/** Runs a login ceremony: `start` gives {ceremony, publicKey}; returns {ceremony, credential}. */
export async function getAssertion(start) {
  const pk = options(start);
  checkSite(pk.rpId);
  const cred = await navigator.credentials.get({ publicKey: requestOptions(pk) });
  if (!cred) throw new Error('No passkey was chosen.');
  return { ceremony: start.ceremony, credential: assertionJson(cred) };
}

/** Runs a registration ceremony; returns {ceremony, credential}. */
export async function createCredential(start) {
  const pk = options(start);
  checkSite(pk.rp && pk.rp.id);
  const cred = await navigator.credentials.create({ publicKey: creationOptions(pk) });
  if (!cred) throw new Error('No passkey was created.');
  return { ceremony: start.ceremony, credential: attestationJson(cred) };
}
