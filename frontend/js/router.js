// Hash routes: #/ready, #/all?status=..&kind=..&tier=..&tag=..&q=..,
// #/item/<id>, #/trend, and #register=<token> (the one-time passkey registration link).

export const FILTER_KEYS = ['status', 'kind', 'tier', 'tag', 'q'];

export function parse(hash = location.hash) {
  const h = hash.replace(/^#/, '');
  if (h.startsWith('register=')) {
    return { view: 'register', token: decodeURIComponent(h.slice('register='.length)) };
  }
  const [path, query = ''] = h.replace(/^\//, '').split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'item' && parts[1]) {
    return { view: 'item', id: decodeURIComponent(parts.slice(1).join('/')) };
  }
  if (parts[0] === 'trend') return { view: 'trend' };
  if (parts[0] === 'all') {
    const params = new URLSearchParams(query);
    const filters = {};
    for (const k of FILTER_KEYS) filters[k] = params.get(k) || '';
    return { view: 'all', filters };
  }
  return { view: 'ready' };
}

export function itemHref(id) {
  return `#/item/${encodeURIComponent(id)}`;
}

export function allHref(filters = {}) {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) params.set(k, filters[k]);
  const q = params.toString();
  return q ? `#/all?${q}` : '#/all';
}

export function go(href) {
  if (location.hash === href) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = href;
}
