// Usage: tokens and requests over time, per model or per account, as SVG
// charts, with the totals underneath.

import { get } from '../api.js';
import { h, replace, compact } from '../dom.js';
import { stackedBars } from '../chart.js';

const RANGES = [
  ['24h', 'Last 24 hours', 'hour', 24 * 3600e3],
  ['7d', 'Last 7 days', 'hour', 7 * 24 * 3600e3],
  ['30d', 'Last 30 days', 'day', 30 * 24 * 3600e3],
];
const TOP = 8;

export function mount(el, ctx) {
  const range = h('select', { id: 'u-range', 'aria-label': 'Range' }, RANGES.map(([v, l]) => h('option', { value: v }, l)));
  const group = h('select', { id: 'u-group', 'aria-label': 'Group by' },
    h('option', { value: 'model' }, 'Per model'), h('option', { value: 'account' }, 'Per account'));
  const out = h('div', { class: 'usage', id: 'usage-charts' }, h('p', { class: 'muted' }, 'Loading…'));
  range.addEventListener('change', load);
  group.addEventListener('change', load);
  el.append(h('div', { class: 'toolbar' }, range, group, h('button', { type: 'button', class: 'ghost small', onclick: load }, 'Reload')), out);

  async function load() {
    const [, , bucket, span] = RANGES.find((r) => r[0] === range.value);
    const since = Date.now() - span;
    let data;
    try {
      data = await get(`/api/usage?bucket=${bucket}&since_ms=${Math.floor(since)}`);
    } catch (e) {
      ctx.fail(e, 'Loading usage');
      return;
    }
    render(data, group.value);
  }

  function render(data, by) {
    const size = data.bucket === 'day' ? 86400e3 : 3600e3;
    const first = Math.floor(data.since_ms / size) * size;
    const last = Math.floor(data.now_ms / size) * size;
    const buckets = [];
    for (let t = first; t <= last; t += size) buckets.push(t);
    const index = new Map(buckets.map((t, i) => [t, i]));

    const groups = new Map();
    for (const r of data.rows) {
      const name = (by === 'model' ? r.model : r.account) || '(none)';
      if (!groups.has(name)) {
        groups.set(name, {
          name, tokens: Array(buckets.length).fill(0), requests: Array(buckets.length).fill(0),
          total: { requests: 0, errors: 0, input: 0, output: 0, cached: 0, reasoning: 0 },
        });
      }
      const g = groups.get(name);
      const i = index.get(r.bucket_ms);
      if (i !== undefined) {
        g.tokens[i] += r.input_tokens + r.output_tokens;
        g.requests[i] += r.requests;
      }
      g.total.requests += r.requests;
      g.total.errors += r.errors;
      g.total.input += r.input_tokens;
      g.total.output += r.output_tokens;
      g.total.cached += r.cached_tokens;
      g.total.reasoning += r.reasoning_tokens;
    }
    const sorted = [...groups.values()].sort((a, b) =>
      (b.total.input + b.total.output) - (a.total.input + a.total.output) || b.total.requests - a.total.requests);
    const shown = sorted.slice(0, TOP);
    if (sorted.length > TOP) {
      const rest = sorted.slice(TOP);
      shown.push({
        name: `${rest.length} more`,
        tokens: buckets.map((_, i) => rest.reduce((s, g) => s + g.tokens[i], 0)),
        requests: buckets.map((_, i) => rest.reduce((s, g) => s + g.requests[i], 0)),
      });
    }
    if (data.rows.length === 0) {
      replace(out, h('div', { class: 'card empty' }, h('h2', {}, 'No requests in this range'),
        h('p', {}, 'Charts appear once clients send requests through the gateway.')));
      return;
    }
    const sum = (k) => sorted.reduce((s, g) => s + g.total[k], 0);
    replace(out,
      h('div', { class: 'stats' },
        stat('Requests', sum('requests')), stat('Errors', sum('errors')),
        stat('Input tokens', sum('input')), stat('Output tokens', sum('output')),
        stat('Cached tokens', sum('cached'))),
      h('section', { class: 'card wide' }, stackedBars({
        buckets, bucketMs: size, unit: 'tokens', title: `Tokens (input + output) per ${data.bucket}, ${by === 'model' ? 'by model' : 'by account'}`,
        series: shown.map((g) => ({ name: g.name, values: g.tokens })),
      })),
      h('section', { class: 'card wide' }, stackedBars({
        buckets, bucketMs: size, unit: 'requests', title: `Requests per ${data.bucket}, ${by === 'model' ? 'by model' : 'by account'}`,
        series: shown.map((g) => ({ name: g.name, values: g.requests })),
      })),
      h('section', { class: 'card wide' },
        h('h2', {}, by === 'model' ? 'Totals per model' : 'Totals per account'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, [by === 'model' ? 'Model' : 'Account', 'Requests', 'Errors', 'Input', 'Output', 'Cached', 'Reasoning']
            .map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
          h('tbody', {}, sorted.map((g) => h('tr', {},
            h('td', {}, g.name),
            [g.total.requests, g.total.errors, g.total.input, g.total.output, g.total.cached, g.total.reasoning]
              .map((v) => h('td', { class: 'num', title: v.toLocaleString() }, compact(v))))))))));
  }

  function stat(title, value) {
    return h('div', { class: 'card stat' }, h('span', { class: 'muted' }, title), h('strong', {}, compact(value)));
  }

  load();
  return () => {};
}
