// Who holds an item (htrac claim): a badge from the item's claim fields —
// "⚑ SESSION" while the lease runs, "claim expired" after it ends — with
// the lease's end in its tooltip; nothing for an unclaimed item.

import { h } from '../dom.js';

export function claimBadge(item) {
  const f = (item && item.fields) || {};
  if (typeof f.claimed_by !== 'string' || typeof f.claim_until !== 'string') return null;
  const until = Date.parse(f.claim_until);
  const live = Number.isFinite(until) && until > Date.now();
  return h('span', {
    class: live ? 'badge claim' : 'badge claim expired',
    title: `${live ? 'claimed until' : 'claim expired'} ${f.claim_until}`,
    text: live ? `⚑ ${f.claimed_by}` : `claim expired (${f.claimed_by})`,
  });
}
