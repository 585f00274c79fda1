// The priority trend (#/trend): the chart `htrac priority-trend` draws,
// served by htrac-serve as /api/priority-trend.svg, with a one-line summary
// from /api/priority-trend. Fetched afresh each time the view opens.

import { byId } from '../dom.js';
import { api } from '../api.js';

let loads = 0;

/** Shows (`open`) or hides the trend pane; opening reloads the chart. */
export function show(open) {
  document.body.classList.toggle('trend-open', open);
  byId('trend-pane').hidden = !open;
  if (!open) return;
  const n = ++loads;
  const summary = byId('trend-summary');
  summary.textContent = 'Loading…';
  byId('trend-img').src = `/api/priority-trend.svg?n=${Date.now()}`;
  api.trend().then((data) => {
    if (n !== loads) return;
    const points = data.points || [];
    if (points.length === 0) {
      summary.textContent = 'No items yet: nothing to chart.';
      return;
    }
    const last = points[points.length - 1];
    const mean = last.mean_priority === null ? 'none open' : `mean priority ${last.mean_priority}`;
    summary.textContent = `${points.length} day(s), ${points[0].day} to ${last.day}; ` +
      `on ${last.day}: ${last.open} open, ${mean}.`;
  }).catch((e) => {
    if (n === loads) summary.textContent = `Could not load the trend: ${e.message}`;
  });
}
