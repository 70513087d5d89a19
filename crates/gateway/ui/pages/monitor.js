// Monitor: the request log, new records arriving live over server-sent events,
// filters, and a detail view with headers and bodies when they were captured.

import { get } from '../api.js';
import { h, replace, clear, compact, millis, time, badge } from '../dom.js';

const MAX_ROWS = 500;

export function mount(el, ctx) {
  const filters = { status: '', model: '', account: '' };
  let rows = [];
  let nextBefore = null;
  let source = null;
  let paused = false;

  const statusSel = h('select', { id: 'f-status', 'aria-label': 'Status' },
    [['', 'All statuses'], ['2', '2xx'], ['4', '4xx'], ['5', '5xx']].map(([v, l]) => h('option', { value: v }, l)));
  const model = h('input', { type: 'search', id: 'f-model', placeholder: 'Model', 'aria-label': 'Model' });
  const account = h('input', { type: 'search', id: 'f-account', placeholder: 'Account email', 'aria-label': 'Account' });
  const live = h('span', { class: 'pill', id: 'live-state' }, 'Connecting…');
  const pause = h('button', {
    type: 'button', class: 'small ghost',
    onclick: () => {
      paused = !paused;
      pause.textContent = paused ? 'Resume' : 'Pause';
      setLive();
    },
  }, 'Pause');
  const body = h('tbody', { id: 'requests-body' });
  const more = h('button', { type: 'button', class: 'ghost', onclick: () => load(false) }, 'Load older');
  const detail = h('div', { class: 'detail-slot' });
  el.append(
    h('form', {
      class: 'toolbar filters',
      onsubmit: (event) => {
        event.preventDefault();
        filters.status = statusSel.value;
        filters.model = model.value.trim();
        filters.account = account.value.trim();
        load(true);
      },
    }, statusSel, model, account, h('button', { type: 'submit', class: 'small' }, 'Filter'), h('span', { class: 'spacer' }), h('span', { class: 'live-group' }, live, pause)),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table requests' },
        h('thead', {}, h('tr', {},
          ['Time', 'Status', 'Protocol', 'Path', 'Model', 'Account', 'Duration', 'Tokens in / out', 'Tries']
            .map((t) => h('th', {}, t)))),
        body)),
    h('div', { class: 'more' }, more),
    detail);

  function matches(r) {
    if (filters.status) {
      const s = Number(filters.status);
      if (s <= 5 ? Math.floor(r.status / 100) !== s : r.status !== s) return false;
    }
    if (filters.model && r.model !== filters.model && r.mapped_model !== filters.model) return false;
    if (filters.account && r.account !== filters.account) return false;
    return true;
  }

  function query(extra) {
    const q = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    for (const [k, v] of Object.entries(extra || {})) if (v !== null && v !== undefined) q.set(k, String(v));
    return q.toString();
  }

  async function load(fresh) {
    try {
      const data = await get(`/api/requests?${query(fresh ? {} : { before_id: nextBefore })}`);
      if (fresh) {
        // Live records (no id: not stored yet) that arrived while this page
        // was loading would be lost by replacing the rows: keep those the
        // stored page does not have yet.
        const stored = new Set(data.requests.map((r) => r.request_id));
        const pending = rows.filter((r) => r.id === null && matches(r) && !stored.has(r.request_id));
        rows = pending.concat(data.requests);
      } else {
        rows = rows.concat(data.requests);
      }
      nextBefore = data.next_before_id;
      more.hidden = nextBefore === null;
      renderRows();
    } catch (e) {
      ctx.fail(e, 'Loading requests');
    }
  }

  function renderRows() {
    clear(body);
    if (rows.length === 0) {
      body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: 9, class: 'muted center' }, 'No requests yet. They appear here as clients use the gateway.')));
      return;
    }
    for (const r of rows) body.append(row(r, false));
  }

  function row(r, fresh) {
    const kind = r.status >= 500 ? 'bad' : r.status >= 400 ? 'warn' : 'ok';
    const tr = h('tr', {
      class: `clickable${fresh ? ' fresh' : ''}`,
      tabindex: 0,
      dataset: { requestId: r.request_id },
      onclick: () => open(r),
      onkeydown: (event) => { if (event.key === 'Enter') open(r); },
    },
    h('td', { class: 'c-time nowrap' }, time(r.ts_ms)),
    h('td', { class: 'c-status' }, badge(String(r.status), kind)),
    h('td', { class: 'c-proto' }, r.protocol),
    h('td', { class: 'c-path path' }, `${r.method} ${r.path}`, r.stream ? badge('stream', 'plain') : null,
      r.error ? h('div', { class: 'row-error' }, r.error) : null),
    h('td', { class: 'c-model' }, r.model || '–', r.mapped_model && r.mapped_model !== r.model ? h('span', { class: 'muted' }, ` → ${r.mapped_model}`) : null),
    h('td', { class: 'c-account' }, r.account || '–'),
    h('td', { class: 'c-dur num' }, millis(r.duration_ms)),
    h('td', { class: 'c-tokens num', title: 'input / output tokens' }, `${compact(r.input_tokens)} / ${compact(r.output_tokens)} tok`),
    h('td', { class: 'c-tries num' }, String(r.attempts)));
    if (r.error) tr.title = r.error;
    return tr;
  }

  function setLive(state) {
    if (state) live.dataset.state = state;
    const s = live.dataset.state;
    live.textContent = paused ? 'Paused' : s === 'open' ? 'Live' : s === 'error' ? 'Reconnecting…' : 'Connecting…';
    live.className = `pill ${paused ? 'muted' : s === 'open' ? 'ok' : 'warn'}`;
  }

  function connect() {
    source = new EventSource('/api/requests/live');
    source.addEventListener('open', () => setLive('open'));
    source.addEventListener('error', () => setLive('error'));
    source.addEventListener('request', (event) => {
      if (paused) return;
      let r;
      try { r = JSON.parse(event.data); } catch { return; }
      if (!matches(r)) return;
      rows.unshift(r);
      if (rows.length > MAX_ROWS) rows.length = MAX_ROWS;
      const empty = body.querySelector('tr.empty-row');
      if (empty) empty.remove();
      body.prepend(row(r, true));
      while (body.children.length > MAX_ROWS) body.lastChild.remove();
    });
    source.addEventListener('lagged', (event) => {
      const missed = JSON.parse(event.data).missed;
      ctx.notify(`${missed} request(s) went by too fast to show; reload to see them.`);
    });
  }

  /** The stored record (live ones may take a moment to be written). */
  async function stored(r) {
    if (r.id) return get(`/api/requests/${r.id}`);
    for (let i = 0; i < 10; i++) {
      const found = await get(`/api/requests?request_id=${encodeURIComponent(r.request_id)}&limit=1`);
      if (found.requests.length) return get(`/api/requests/${found.requests[0].id}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    return null;
  }

  async function open(r) {
    const close = h('button', { type: 'button', class: 'small ghost', onclick: () => clear(detail) }, 'Close');
    const content = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    replace(detail, h('section', { class: 'card detail', id: 'request-detail' },
      h('header', { class: 'account-head' }, h('h2', {}, `${r.method} ${r.path}`), close), content));
    detail.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    let data;
    try {
      data = await stored(r);
    } catch (e) {
      replace(content, h('p', { class: 'form-error' }, e.message));
      return;
    }
    const full = data ? data.request : r;
    const facts = [
      ['Request id', full.request_id], ['Time', new Date(full.ts_ms).toLocaleString()], ['Status', full.status],
      ['Protocol', full.protocol], ['Client', full.client_ip || '–'], ['Stream', full.stream ? 'yes' : 'no'],
      ['Model', full.model || '–'], ['Upstream model', full.mapped_model || '–'], ['Account', full.account || '–'],
      ['Duration', millis(full.duration_ms)], ['First byte', millis(full.ttfb_ms)], ['Upstream tries', full.attempts],
      ['Input tokens', full.input_tokens], ['Output tokens', full.output_tokens],
      ['Cached tokens', full.cached_tokens], ['Reasoning tokens', full.reasoning_tokens],
    ];
    const captured = data && data.capture_bodies;
    replace(content,
      full.error ? h('p', { class: 'reason' }, full.error) : null,
      h('dl', { class: 'facts two' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      captured || full.request_body || full.request_headers
        ? [
          block('Request headers', full.request_headers),
          block('Request body', full.request_body),
          block('Response headers', full.response_headers),
          block('Response body', full.response_body),
        ]
        : h('p', { class: 'hint' }, 'Headers and bodies are not captured. Set [monitor] capture_bodies = true (UPLINK_MONITOR_CAPTURE_BODIES=true) to keep them.'));
  }

  function block(title, text) {
    if (!text) return h('details', {}, h('summary', {}, `${title} (none)`));
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON (a stream, or cut short) */ }
    return h('details', { open: true }, h('summary', {}, title), h('pre', { class: 'body' }, shown));
  }

  setLive('connecting');
  load(true);
  connect();
  return () => {
    if (source) source.close();
  };
}
