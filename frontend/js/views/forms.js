// The new-item and edit forms, in one modal dialog (Esc or Cancel closes it).
// Kinds, statuses and custom fields come from /api/config. An edit sends only
// what changed.

import { h, byId, fill, words } from '../dom.js';
import { store, kindInfo, statusesFor, beforeOf, putItem, allTags } from '../store.js';
import * as outbox from '../outbox.js';
import { itemHref, go } from '../router.js';
import { toast } from './shell.js';

const PRIORITIES = [0, 1, 2, 3, 4];
let mode = null; // {kind: 'new'} | {kind: 'edit', id}
let opener = null;

function field(label, input, help) {
  const id = input.id;
  return h('div', {},
    h('label', { for: id, text: label }),
    input,
    help ? h('p', { class: 'field-help', id: `${id}-help`, text: help }) : null);
}

function select(id, values, current, blank) {
  const el = h('select', { id, name: id });
  if (blank !== undefined) el.appendChild(h('option', { value: '', text: blank }));
  for (const v of values) el.appendChild(h('option', { value: String(v), text: String(v) }));
  el.value = current === undefined || current === null ? '' : String(current);
  return el;
}

/** [[name, spec]] of a kind's custom fields (htrac-serve sends a list of {name, ...}; a map works too). */
function schemaOf(kind) {
  const s = kindInfo(kind).fields_schema;
  if (Array.isArray(s)) return s.filter((f) => f && f.name).map((f) => [f.name, f]);
  return s && typeof s === 'object' ? Object.entries(s) : [];
}

function customInputs(kind, values = {}) {
  return schemaOf(kind).map(([name, spec]) => {
    const s = spec || {};
    const id = `f-field-${name}`;
    const v = values[name];
    let input;
    if (s.type === 'boolean') {
      input = h('input', { id, type: 'checkbox', dataset: { field: name, type: 'boolean' }, checked: v === true });
      return h('label', { class: 'check' }, input, `${name}${s.required ? ' (required)' : ''}`);
    }
    if (s.type === 'integer') {
      input = h('input', { id, type: 'number', step: '1', min: s.min, max: s.max, value: v ?? '', dataset: { field: name, type: 'integer' } });
    } else if (s.type === 'list') {
      input = h('input', { id, value: Array.isArray(v) ? v.join(', ') : '', dataset: { field: name, type: 'list' } });
    } else {
      input = h('textarea', { id, rows: 2, dataset: { field: name, type: 'text' } });
      input.value = v ?? '';
    }
    if (s.required) input.required = true;
    return field(`${name}${s.required ? ' (required)' : ''}`, input, s.description || (s.type === 'list' ? 'Comma-separated.' : null));
  });
}

function readCustom(form) {
  const out = {};
  for (const el of form.querySelectorAll('[data-field]')) {
    const name = el.dataset.field;
    const t = el.dataset.type;
    if (t === 'boolean') out[name] = el.checked;
    else if (t === 'integer') { if (el.value !== '') out[name] = Number(el.value); }
    else if (t === 'list') { const l = words(el.value); if (l.length) out[name] = l; }
    else if (el.value.trim()) out[name] = el.value;
  }
  return out;
}

function idOptions() {
  fill(byId('id-options'), [...store.items.values()].map((it) => h('option', { value: it.id, label: it.title })));
  fill(byId('tag-options'), allTags().map((t) => h('option', { value: t })));
}

function newFields(kind) {
  const kinds = store.config.kinds.map((k) => k.name);
  const k = kind || (kinds.includes('work_item') ? 'work_item' : kinds[0]);
  const kindSel = select('f-kind', kinds, k);
  kindSel.addEventListener('change', () => {
    const keep = readBasics();
    fill(byId('item-form-fields'), newFields(kindSel.value));
    restoreBasics(keep);
    byId('f-kind').focus();
  });
  const tiers = store.config.tiers.filter((t) => t !== 'stealth' || (store.me && store.me.human));
  return [
    field('Kind', kindSel, kindInfo(k).description),
    field('Title', h('input', { id: 'f-title', required: true, autocomplete: 'off' })),
    h('div', { class: 'row2' },
      field('Priority', select('f-priority', PRIORITIES, 2), '0 is the most urgent.'),
      field('Status', select('f-status', statusesFor(k), '', 'default for the kind'))),
    h('div', { class: 'row2' },
      field('Tier', select('f-tier', tiers, tiers.includes('workspace') ? 'workspace' : tiers[0])),
      field('Tags', h('input', { id: 'f-tags', list: 'tag-options', autocomplete: 'off' }), 'Comma-separated.')),
    h('div', { class: 'row2' },
      field('Parent', h('input', { id: 'f-parent', list: 'id-options', autocomplete: 'off' }), 'An item id (optional).'),
      field('Comes before', h('input', { id: 'f-before', list: 'id-options', autocomplete: 'off' }),
        'Ids of items that wait for this one, comma-separated.')),
    field('Description', h('textarea', { id: 'f-description', rows: 5 })),
    customInputs(k),
  ];
}

function readBasics() {
  const keep = {};
  for (const id of ['f-title', 'f-priority', 'f-tags', 'f-parent', 'f-before', 'f-description']) {
    const el = document.getElementById(id);
    if (el) keep[id] = el.value;
  }
  return keep;
}

function restoreBasics(keep) {
  for (const [id, v] of Object.entries(keep)) {
    const el = document.getElementById(id);
    if (el) el.value = v;
  }
}

function editFields(item) {
  const statuses = statusesFor(item.kind);
  const st = statuses.includes(item.status) ? statuses : [item.status, ...statuses];
  const title = h('input', { id: 'f-title', required: true, autocomplete: 'off', value: item.title || '' });
  const desc = h('textarea', { id: 'f-description', rows: 6 });
  desc.value = item.description || '';
  return [
    field('Title', title),
    h('div', { class: 'row2' },
      field('Status', select('f-status', st, item.status)),
      field('Priority', select('f-priority', PRIORITIES.includes(item.priority) ? PRIORITIES : [item.priority, ...PRIORITIES], item.priority))),
    h('div', { class: 'row2' },
      field('Tags', h('input', { id: 'f-tags', list: 'tag-options', autocomplete: 'off', value: (item.tags || []).join(', ') }), 'Comma-separated.'),
      field('PR', h('input', { id: 'f-pr', autocomplete: 'off', value: item.pr_ref || '' }))),
    h('div', { class: 'row2' },
      field('Parent', h('input', { id: 'f-parent', list: 'id-options', autocomplete: 'off', value: item.parent || '' })),
      field('Comes before', h('input', { id: 'f-before', list: 'id-options', autocomplete: 'off', value: beforeOf(item).join(', ') }),
        'Ids of items that wait for this one, comma-separated.')),
    field('Description', desc),
    customInputs(item.kind, item.fields || {}),
  ];
}

function newBody(form) {
  const v = (id) => byId(id).value.trim();
  const body = { kind: v('f-kind'), title: v('f-title'), priority: Number(v('f-priority')) };
  if (v('f-status')) body.status = v('f-status');
  if (v('f-tier')) body.tier = v('f-tier');
  if (v('f-description')) body.description = byId('f-description').value;
  const tags = words(v('f-tags'));
  if (tags.length) body.tags = tags;
  if (v('f-parent')) body.parent = v('f-parent');
  const before = words(v('f-before'));
  if (before.length) body.before = before;
  const fields = readCustom(form);
  if (Object.keys(fields).length) body.fields = fields;
  return body;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function editBody(form, item) {
  const v = (id) => byId(id).value.trim();
  const body = {};
  if (v('f-title') !== (item.title || '')) body.title = v('f-title');
  if (v('f-status') !== item.status) body.status = v('f-status');
  if (Number(v('f-priority')) !== item.priority) body.priority = Number(v('f-priority'));
  if (byId('f-description').value !== (item.description || '')) body.description = byId('f-description').value;
  const tags = words(v('f-tags'));
  if (!same(tags, (item.tags || []).map(String))) body.tags = tags;
  if (v('f-pr') !== (item.pr_ref || '')) body.pr_ref = v('f-pr');
  if (v('f-parent') !== (item.parent || '')) body.parent = v('f-parent');
  const before = words(v('f-before'));
  const old = beforeOf(item);
  const add = before.filter((id) => !old.includes(id));
  const remove = old.filter((id) => !before.includes(id));
  if (add.length) body.add_before = add;
  if (remove.length) body.remove_before = remove;
  const fields = readCustom(form);
  const changed = Object.fromEntries(Object.entries(fields).filter(([k, val]) => !same(val, (item.fields || {})[k])));
  if (Object.keys(changed).length) body.fields = changed;
  return body;
}

function missingRequired(form) {
  for (const el of form.querySelectorAll('[required]')) {
    if (el.type !== 'checkbox' && !el.value.trim()) return el;
  }
  return null;
}

async function submit(ev) {
  ev.preventDefault();
  const form = byId('item-form');
  const err = byId('item-form-error');
  err.textContent = '';
  const empty = missingRequired(form);
  if (empty) {
    const label = form.querySelector(`label[for="${empty.id}"]`);
    err.textContent = `${label ? label.textContent : 'A required field'} cannot be empty.`;
    empty.focus();
    return;
  }
  let action;
  let fields;
  let label;
  if (mode.kind === 'new') {
    fields = newBody(form);
    action = 'add';
    label = `New item "${fields.title}"`;
  } else {
    const item = store.items.get(mode.id);
    if (!item) {
      err.textContent = 'This item is no longer loaded; close and reopen it.';
      return;
    }
    fields = editBody(form, item);
    if (!Object.keys(fields).length) {
      close();
      toast({ kind: 'info', text: 'Nothing changed.' });
      return;
    }
    fields.item = mode.id;
    action = 'update';
    label = `Edit ${mode.id}`;
  }
  const { queued, promise, entry } = outbox.submit(action, fields, label);
  if (queued) {
    close();
    toast({ kind: 'info', text: `Offline: ${label} is queued and will be sent when the connection is back.` });
    return;
  }
  entry.handled = true;
  const button = byId('item-form-submit');
  const wasNew = mode.kind === 'new';
  const opened = mode;
  button.disabled = true;
  try {
    const res = await promise;
    if (res && res.item) putItem(res.item);
    const newId = (res && res.item && res.item.id) || (res && res.item_id);
    if (mode === opened) close();
    if (wasNew && newId) {
      toast({ kind: 'ok', text: `Created ${newId}` });
      go(itemHref(newId));
    }
  } catch (e) {
    // A lost answer: the change waits in the outbox, where Retry resends it
    // under the same key; the dialog closes so it is not sent a second time.
    if (outbox.outcomeUnknown(e.code) && mode === opened) close();
    // The user may have closed the dialog meanwhile: then say it out loud.
    if (mode === opened && byId('item-dialog').open) err.textContent = e.error;
    else toast({ kind: 'error', text: `${label}: ${e.error}` });
  } finally {
    button.disabled = false;
  }
}

function open(title, submitText, children) {
  const dlg = byId('item-dialog');
  opener = document.activeElement;
  byId('item-dialog-title').textContent = title;
  byId('item-form-submit').textContent = submitText;
  byId('item-form-error').textContent = '';
  idOptions();
  fill(byId('item-form-fields'), children);
  dlg.showModal();
  const first = byId('item-form-fields').querySelector('#f-title') || byId('item-form-fields').querySelector('input, select, textarea');
  if (first) first.focus();
}

export function close() {
  const dlg = byId('item-dialog');
  if (dlg.open) dlg.close();
}

export function openNew() {
  if (!store.config.kinds.length) {
    toast({ kind: 'error', text: 'The tracker configuration has not loaded yet; try again in a moment.' });
    return;
  }
  mode = { kind: 'new' };
  open('New item', 'Create', newFields());
}

export function openEdit(id) {
  const item = store.items.get(id);
  if (!item) return;
  mode = { kind: 'edit', id };
  open(`Edit ${item.id}`, 'Save', editFields(item));
}

export function init() {
  const dlg = byId('item-dialog');
  byId('item-form').addEventListener('submit', submit);
  byId('item-form-cancel').addEventListener('click', close);
  dlg.addEventListener('close', () => {
    mode = null;
    fill(byId('item-form-fields'));
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });
}
