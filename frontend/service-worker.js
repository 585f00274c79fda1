// htrac service worker: caches the page shell only (HTML, CSS, scripts,
// icon), never /api, /ws or /health. The cache is named after the build id
// in this script's URL (/service-worker.js?v=<build>, registered by main.js
// from <meta name="htrac-build">), so a new build gets a new cache and the
// old one is deleted. Without a build id ('dev') it serves network-first and
// uses the cache only when the server cannot be reached.

const BUILD = new URL(self.location.href).searchParams.get('v') || 'dev';
const CACHE = `htrac-shell-${BUILD}`;
const VERSIONED = BUILD !== 'dev';

const SHELL = [
  '/',
  '/app.css',
  '/favicon.svg',
  '/js/main.js',
  '/js/api.js',
  '/js/ws.js',
  '/js/store.js',
  '/js/dom.js',
  '/js/router.js',
  '/js/passkey.js',
  '/js/outbox.js',
  '/js/views/login.js',
  '/js/views/register.js',
  '/js/views/shell.js',
  '/js/views/list.js',
  '/js/views/detail.js',
  '/js/views/claim.js',
  '/js/views/forms.js',
  '/js/views/trend.js',
];
const SHELL_SET = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `reload` skips the HTTP cache, so the new cache gets this build's files.
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('htrac-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** The cache key of a shell request, or null for anything else. */
function shellKey(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (request.mode === 'navigate') return url.pathname === '/' || url.pathname === '/index.html' ? '/' : null;
  return SHELL_SET.has(url.pathname) ? url.pathname : null;
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch (e) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(request, key) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) await cache.put(key, res.clone());
  return res;
}

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (!key) return; // /api, /ws, /health and everything else: straight to the network.
  // The HTML is always asked for first, so a new build is noticed at once.
  const page = key === '/';
  event.respondWith(VERSIONED && !page ? cacheFirst(event.request, key) : networkFirst(event.request, key));
});
