// The list pane: the ready queue (GET /api/ready, refreshed after every live
// change) or every item with filters (status, kind, tier, tag, text), kept
// current from the live item set.

import { claimBadge } from './claim.js';
import { h, byId, fill } from '../dom.js';
import { api } from '../api.js';
import { store, byPriority, allTags } from '../store.js';
import { itemHref, allHref, go, FILTER_KEYS } from '../router.js';

let mode = 'ready';
let filters = { status: '', kind: '', tier: '', tag: '', q: '' };
let selected = null;
/** Ids from the last /api/ready answer, in its order; null before the first. */
let readyIds = null;
let readyError = '';
let readyTimer = null;
let readyBusy = false;
let readyAgain = false;

function statusBadge(status) {
  return h('span', { class: 'badge', dataset: { status }, text: status });
}

function row(item) {
  const a = h('a', {
    class: 'item-row', href: itemHref(item.id), dataset: { id: item.id },
    'aria-current': item.id === selected ? 'true' : false,
  },
  h('span', { class: 'title', text: item.title || '(no title)' }),
  h('span', { class: 'meta' },
    h('span', { text: `P${item.priority ?? '?'}` }),
    statusBadge(item.status),
    claimBadge(item),
    h('span', { text: item.kind }),
    item.tier ? h('span', { text: item.tier }) : null,
    item.frozen ? h('span', { class: 'badge frozen', text: 'frozen' }) : null,
    ...(item.tags || []).map((t) => h('span', { text: `#${t}` }))));
  return h('li', {}, a);
}

function matches(item) {
  if (filters.status && item.status !== filters.status) return false;
  if (filters.kind && item.kind !== filters.kind) return false;
  if (filters.tier && item.tier !== filters.tier) return false;
  if (filters.tag && !(item.tags || []).map(String).includes(filters.tag)) return false;
  if (filters.q) {
    const q = filters.q.toLowerCase();
    const hay = [item.id, item.title, item.description, ...(item.tags || [])].join('\n').toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

function visibleItems() {
  if (mode === 'ready') {
    if (readyIds === null) return null;
    return readyIds.map((id) => store.items.get(id)).filter(Boolean);
  }
  return [...store.items.values()].filter(matches).sort(byPriority);
}

function options(select, values, anyLabel, current) {
  fill(select, h('option', { value: '', text: anyLabel }),
    values.map((v) => h('option', { value: v, text: v })));
  select.value = values.includes(current) ? current : '';
}

function renderFilters() {
  const c = store.config;
  options(byId('filter-status'), c.statuses, 'Any status', filters.status);
  options(byId('filter-kind'), c.kinds.map((k) => k.name), 'Any kind', filters.kind);
  options(byId('filter-tier'), c.tiers, 'Any tier', filters.tier);
  const tag = byId('filter-tag');
  if (document.activeElement !== tag) tag.value = filters.tag;
  const q = byId('filter-q');
  if (document.activeElement !== q) q.value = filters.q;
  fill(byId('tag-options'), allTags().map((t) => h('option', { value: t })));
}

/** Draws the list pane from the current state. */
export function render() {
  byId('list-title').textContent = mode === 'ready' ? 'Ready' : 'All items';
  byId('filters').hidden = mode !== 'all';
  if (mode === 'all') renderFilters();
  const items = visibleItems();
  const list = byId('item-list');
  const focusedId = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
  let count;
  if (items === null || (!store.loaded && mode === 'all')) {
    count = readyError || 'Loading…';
    fill(list);
  } else {
    const what = mode === 'ready' ? 'ready to work on' : 'shown';
    count = `${items.length} item${items.length === 1 ? '' : 's'} ${what}`;
    if (mode === 'all' && items.length !== store.items.size) count += ` (of ${store.items.size})`;
    if (readyError && mode === 'ready') count += ` — ${readyError}`;
    fill(list, items.map(row));
  }
  byId('list-count').textContent = count;
  if (focusedId) {
    const again = [...list.querySelectorAll('a.item-row')].find((a) => a.dataset.id === focusedId);
    if (again) again.focus();
  }
}

async function refreshReady() {
  if (readyBusy) {
    readyAgain = true;
    return;
  }
  readyBusy = true;
  try {
    const res = await api.ready();
    const items = (res && res.items) || [];
    for (const it of items) if (!store.items.has(it.id) || !store.loaded) store.items.set(it.id, it);
    readyIds = items.map((it) => it.id);
    readyError = '';
  } catch (e) {
    readyError = `could not refresh: ${e.message}`;
  } finally {
    readyBusy = false;
  }
  render();
  if (readyAgain) {
    readyAgain = false;
    refreshReady();
  }
}

/** The items changed (snapshot or delta): redraw, and re-ask the ready queue. */
export function itemsChanged() {
  clearTimeout(readyTimer);
  readyTimer = setTimeout(refreshReady, 150);
  render();
}

/** Switches to the ready queue or the filtered list. */
export function show(route) {
  if (route.view === 'ready') mode = 'ready';
  if (route.view === 'all') {
    mode = 'all';
    filters = { ...filters, ...route.filters };
  }
  if (mode === 'ready' && readyIds === null) refreshReady();
  render();
}

export function currentMode() {
  return mode;
}

export function listHref() {
  return mode === 'ready' ? '#/ready' : allHref(filters);
}

export function setSelected(id) {
  selected = id;
  render();
}

/** Forgets everything (logout). */
export function reset() {
  readyIds = null;
  readyError = '';
  selected = null;
  fill(byId('item-list'));
}

export function init() {
  const form = byId('filters');
  const apply = () => {
    const next = {};
    for (const k of FILTER_KEYS) next[k] = form.elements[k].value.trim();
    filters = next;
    if (location.hash.startsWith('#/all')) history.replaceState(null, '', allHref(filters));
    render();
  };
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });
  byId('filter-clear').addEventListener('click', () => {
    filters = { status: '', kind: '', tier: '', tag: '', q: '' };
    go(allHref(filters));
  });
}
