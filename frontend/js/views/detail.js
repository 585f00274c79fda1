// The item pane: one item's fields, its dependency links (before, after,
// parent, children; each a link to that item), the discussion with a form to
// add to it, and, for humans, locks, freeze and tier moves.

import { h, byId, fill, when } from '../dom.js';
import { api } from '../api.js';
import { store, putItem, findItem, beforeOf, afterOf, childrenOf } from '../store.js';
import * as outbox from '../outbox.js';
import { itemHref, allHref } from '../router.js';
import { toast } from './shell.js';
import { openEdit } from './forms.js';
import { claimBadge } from './claim.js';

/** {id, discuss: form element, lockKey, locks: fieldset} for the item on show. */
let current = null;
const fetching = new Set();
const missing = new Set();

const MOVES = {
  workspace: [['promote', 'Promote to canonical'], ['stealth', 'Move to stealth']],
  canonical: [['demote', 'Demote to workspace']],
  stealth: [['unstealth', 'Back to workspace (unstealth)']],
};

/**
 * Sends a write and reports what happened. The promise resolves to the
 * result, or to null when it was queued or refused (already reported).
 */
export async function run(action, fields, label, button) {
  const { queued, promise, entry } = outbox.submit(action, fields, label);
  if (queued) {
    toast({ kind: 'info', text: `Offline: "${label}" is queued and will be sent when the connection is back.` });
    return null;
  }
  entry.handled = true;
  if (button) button.disabled = true;
  try {
    const res = await promise;
    if (res && res.item) putItem(res.item);
    return res;
  } catch (e) {
    toast({ kind: 'error', text: `${label}: ${e.error}` });
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

function link(id, key) {
  const it = store.items.get(id) || findItem(id);
  return h('li', {},
    h('a', { href: itemHref(it ? it.id : id), dataset: { key } }, it ? it.title || it.id : id),
    it ? h('span', { class: 'badge status', dataset: { status: it.status }, text: it.status }) : null,
    it ? null : h('span', { class: 'muted', text: ' (not loaded)' }));
}

function linkList(title, ids, key, empty) {
  return [
    h('dt', { text: title }),
    h('dd', {}, ids.length
      ? h('ul', { class: 'links' }, ids.map((id) => link(id, `${key}:${id}`)))
      : h('span', { class: 'muted', text: empty })),
  ];
}

function discussionEntry(e) {
  return h('li', { dataset: { by: e.by || '' } },
    h('div', { class: 'who' },
      h('strong', { text: e.actor || e.by || 'someone' }),
      ` (${e.by || '?'}) · `,
      h('time', { datetime: e.at || '', text: when(e.at) }),
      e.is_summary ? ' · summary' : ''),
    h('p', { class: 'text', text: e.message || '' }));
}

function discussForm(id) {
  const area = h('textarea', { id: 'discuss-text', name: 'message', required: true, rows: 3 });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'primary', text: 'Send' });
  const form = h('form', { class: 'discuss-form', novalidate: true },
    h('label', { for: 'discuss-text', text: 'Add to the discussion' }), area, err, send);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const message = area.value.trim();
    err.textContent = '';
    if (!message) {
      err.textContent = 'Write a message first.';
      area.focus();
      return;
    }
    const { queued, promise, entry } = outbox.submit('discuss', { item: id, message }, `Message on ${id}`);
    if (queued) {
      area.value = '';
      err.textContent = '';
      toast({ kind: 'info', text: 'Offline: your message is queued and will be sent when the connection is back.' });
      return;
    }
    entry.handled = true;
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      const res = await promise;
      if (res && res.item) putItem(res.item);
      area.value = '';
    } catch (e) {
      // A lost answer: the message waits in the outbox (Retry there sends
      // it under the same key); sending it again from here would not.
      if (outbox.outcomeUnknown(e.code)) area.value = '';
      err.textContent = e.error;
      if (!document.contains(form)) toast({ kind: 'error', text: `Message on ${id}: ${e.error}` });
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
    }
  });
  area.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });
  return form;
}

function locksBox(item) {
  const locked = new Set((item.locked_fields || []).map(String));
  const boxes = store.config.lockable.map((f) => {
    const box = h('input', { type: 'checkbox', name: 'lock', value: f, checked: locked.has(f) });
    return h('label', { class: 'check' }, box, f);
  });
  const apply = h('button', { type: 'submit', text: 'Apply locks' });
  const form = h('form', {}, h('fieldset', {},
    h('legend', { text: 'Locked fields (agents cannot change them)' }),
    h('div', { class: 'lock-grid' }, boxes), apply));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const want = new Set([...form.querySelectorAll('input[name=lock]:checked')].map((b) => b.value));
    const lock = [...want].filter((f) => !locked.has(f));
    const unlock = [...locked].filter((f) => !want.has(f));
    if (!lock.length && !unlock.length) {
      toast({ kind: 'info', text: 'No lock changed.' });
      return;
    }
    if (lock.length) await run('lock', { item: item.id, fields: lock }, `Lock ${lock.join(', ')} on ${item.id}`, apply);
    if (unlock.length) await run('unlock', { item: item.id, fields: unlock }, `Unlock ${unlock.join(', ')} on ${item.id}`, apply);
  });
  return form;
}

function governance(item) {
  const freeze = item.frozen
    ? h('button', { type: 'button', dataset: { key: 'unfreeze' }, text: 'Unfreeze' })
    : h('button', { type: 'button', dataset: { key: 'freeze' }, text: 'Freeze' });
  freeze.addEventListener('click', () => run(item.frozen ? 'unfreeze' : 'freeze', { item: item.id },
    `${item.frozen ? 'Unfreeze' : 'Freeze'} ${item.id}`, freeze));
  const moves = (MOVES[item.tier] || []).map(([to, text]) => {
    const b = h('button', { type: 'button', dataset: { key: `move:${to}` }, text });
    b.addEventListener('click', () => run('move', { item: item.id, to }, `${text}: ${item.id}`, b));
    return b;
  });
  const lockKey = JSON.stringify([item.id, item.locked_fields || [], store.config.lockable]);
  if (!current.locks || current.lockKey !== lockKey) {
    current.locks = locksBox(item);
    current.lockKey = lockKey;
  }
  return h('section', { class: 'governance', 'aria-labelledby': 'gov-title' },
    h('h3', { id: 'gov-title', text: 'Human authority' }),
    h('p', { class: 'muted', text: item.frozen
      ? 'Frozen: nobody can change this item until a human unfreezes it.'
      : 'Freezing stops every change to this item until a human unfreezes it.' }),
    h('div', { class: 'toolbar' }, freeze, moves),
    current.locks);
}

function fieldsList(fields) {
  const entries = Object.entries(fields || {});
  if (!entries.length) return null;
  return h('section', {},
    h('h3', { text: 'Fields' }),
    h('dl', { class: 'props' }, entries.map(([k, v]) => [
      h('dt', { text: k }),
      h('dd', { class: 'text', text: typeof v === 'string' ? v : JSON.stringify(v) }),
    ])));
}

function body(item) {
  const before = beforeOf(item);
  const after = afterOf(item.id).map((it) => it.id);
  const children = childrenOf(item.id).map((it) => it.id);
  const locked = new Set(item.locked_fields || []);
  const edit = h('button', { type: 'button', dataset: { key: 'edit' }, text: 'Edit' });
  edit.addEventListener('click', () => openEdit(item.id));
  return [
    h('h2', { id: 'detail-title', tabindex: '-1', text: item.title || '(no title)' }),
    h('div', { class: 'id', text: item.id }),
    h('div', { class: 'badges' },
      h('span', { class: 'badge', dataset: { status: item.status }, text: item.status }),
      claimBadge(item),
      h('span', { class: 'badge', text: `P${item.priority ?? '?'}` }),
      h('span', { class: 'badge', text: item.kind }),
      item.tier ? h('span', { class: 'badge', text: item.tier }) : null,
      item.frozen ? h('span', { class: 'badge frozen', text: 'frozen' }) : null,
      locked.size ? h('span', { class: 'badge locked', text: `locked: ${[...locked].join(', ')}` }) : null),
    h('div', { class: 'toolbar' }, edit),
    h('dl', { class: 'props' },
      h('dt', { text: 'Tags' }),
      h('dd', {}, (item.tags || []).length
        ? (item.tags || []).map((t, i) => [i ? ' ' : '', h('a', { href: allHref({ tag: String(t) }), text: `#${t}` })])
        : h('span', { class: 'muted', text: 'none' })),
      item.pr_ref ? [h('dt', { text: 'PR' }), h('dd', { text: String(item.pr_ref) })] : null),
    h('section', { 'aria-labelledby': 'deps-title' },
      h('h3', { id: 'deps-title', text: 'Dependencies' }),
      h('dl', { class: 'props' },
        linkList('Parent', item.parent ? [item.parent] : [], 'parent', 'none'),
        linkList('Before', before, 'before', 'none (nothing waits for this item)'),
        linkList('After', after, 'after', 'none (this item waits for nothing)'),
        linkList('Children', children, 'child', 'none'))),
    h('section', {},
      h('h3', { text: 'Description' }),
      item.description ? h('p', { class: 'text', text: item.description }) : h('p', { class: 'muted', text: 'No description.' })),
    fieldsList(item.fields),
    h('section', { 'aria-labelledby': 'disc-title' },
      h('h3', { id: 'disc-title', text: `Discussion (${(item.discussion || []).length})` }),
      (item.discussion || []).length
        ? h('ol', { class: 'discussion' }, item.discussion.map(discussionEntry))
        : h('p', { class: 'muted', text: 'No messages yet.' }),
      current.discuss),
    store.me && store.me.human ? governance(item) : null,
    h('p', { class: 'dates' }, `Created ${when(item.created_at)} · updated ${when(item.updated_at)}`),
  ];
}

async function fetchItem(id) {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    const it = await api.item(id);
    missing.delete(id);
    if (it && it.id) {
      putItem(it);
      if (it.id !== id && current && current.id === id) location.replace(itemHref(it.id));
    }
  } catch (e) {
    if (e.status === 404 || e.status === 409) missing.add(id);
    if (current && current.id === id) {
      fill(byId('detail'), h('p', { class: 'form-error', role: 'alert', text: e.message }));
    }
  } finally {
    fetching.delete(id);
  }
}

/** Draws the current item (keeping the discussion form and its text). */
export function render() {
  const root = byId('detail');
  if (!current) {
    fill(root, h('p', { class: 'placeholder', text: 'Choose an item to see it here.' }));
    return;
  }
  const item = store.items.get(current.id);
  if (!item) {
    if (!missing.has(current.id)) {
      fill(root, h('p', { class: 'muted', text: `Loading ${current.id}…` }));
      fetchItem(current.id);
    }
    return;
  }
  const active = document.activeElement;
  const key = root.contains(active) && active.dataset ? active.dataset.key : null;
  fill(root, h('article', { class: 'detail' }, body(item)));
  if (key) {
    const again = [...root.querySelectorAll('[data-key]')].find((el) => el.dataset.key === key);
    if (again) again.focus();
  }
}

/** Shows item `id` (or nothing with null); `focus` moves focus to its title. */
export function show(id, { focus = false } = {}) {
  if (!id) {
    current = null;
    render();
    return;
  }
  if (!current || current.id !== id) {
    current = { id, discuss: discussForm(id), locks: null, lockKey: null };
    missing.delete(id);
  }
  render();
  if (focus) {
    const title = document.getElementById('detail-title');
    if (title) title.focus();
  }
}

export function currentId() {
  return current ? current.id : null;
}
