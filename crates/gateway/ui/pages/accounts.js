// Accounts: status, project, quota per model with reset times, cooldowns;
// enable, disable, refresh, remove; add by signing in with Google or by import.

import { get, post, del } from '../api.js';
import { h, replace, duration, badge } from '../dom.js';

export function mount(el, ctx) {
  const toolbar = h('div', { class: 'toolbar' });
  const panel = h('div', { class: 'panel-slot' });
  const list = h('div', { class: 'accounts', id: 'accounts-list' }, h('p', { class: 'muted' }, 'Loading…'));
  el.append(toolbar, panel, list);
  let oauthConfigured = true;
  let stopped = false;
  let poll = null;

  async function load() {
    let data;
    try {
      data = await get('/api/accounts');
    } catch (e) {
      ctx.fail(e, 'Loading accounts');
      return;
    }
    oauthConfigured = data.oauth_configured;
    renderToolbar();
    render(data.accounts);
  }

  function renderToolbar() {
    replace(toolbar,
      h('button', { type: 'button', class: 'primary', id: 'add-google', onclick: signIn }, 'Sign in with Google'),
      h('button', { type: 'button', id: 'show-import', onclick: showImport }, 'Import…'),
      h('button', { type: 'button', class: 'ghost', onclick: load }, 'Reload'),
      oauthConfigured ? null : h('p', { class: 'hint' },
        'oauth.client_id is not configured: signing in and refreshing need it (UPLINK_OAUTH_CLIENT_ID / UPLINK_OAUTH_CLIENT_SECRET).'));
  }

  function render(accounts) {
    if (accounts.length === 0) {
      replace(list, h('div', { class: 'card empty' },
        h('h2', {}, 'No accounts yet'),
        h('p', {}, 'Model requests get 503 until you add one: sign in with Google, or import refresh tokens or Antigravity Tools account files.')));
      return;
    }
    replace(list, accounts.map(card));
  }

  function card(a) {
    const statusKind = { active: 'ok', disabled: 'muted', blocked: 'bad' }[a.status] || '';
    const act = (label, path, confirmText, cls = '') => h('button', {
      type: 'button', class: `small ${cls}`,
      onclick: async (event) => {
        if (confirmText && !confirm(confirmText)) return;
        event.target.disabled = true;
        try {
          if (path.method === 'DELETE') await del(path.url);
          else await post(path.url, path.body);
          ctx.notify(`${label}: done for ${a.email || `#${a.id}`}.`, 'ok');
        } catch (e) {
          ctx.fail(e, `${label} ${a.email || `#${a.id}`}`);
        } finally {
          event.target.disabled = false;
          load();
        }
      },
    }, label);
    const models = a.models.filter((m) => m.remaining_fraction !== null || m.cooldown_secs);
    return h('article', { class: 'card account', dataset: { id: a.id } },
      h('header', { class: 'account-head' },
        h('div', {},
          h('h2', { class: 'email' }, a.email || '(email unknown)'),
          h('p', { class: 'muted' }, `#${a.id} · project `, h('code', {}, a.project_id || 'not discovered yet'))),
        h('div', { class: 'account-badges' },
          badge(a.status, statusKind),
          a.cooldown_secs ? badge(`cooling ${duration(a.cooldown_secs)}`, 'warn') : null)),
      a.status_reason ? h('p', { class: 'reason' }, a.status_reason) : null,
      a.validation_url ? h('p', {}, h('a', { href: a.validation_url, target: '_blank', rel: 'noopener' }, 'Verify this account with Google')) : null,
      models.length
        ? h('div', { class: 'quota' },
          h('p', { class: 'muted small' }, a.quota_fetched_at ? `Quota as of ${new Date(a.quota_fetched_at).toLocaleString()}` : 'Quota'),
          models.map(quotaRow))
        : h('p', { class: 'muted' }, 'Quota not fetched yet: use Refresh.'),
      h('div', { class: 'actions' },
        a.status === 'active'
          ? act('Disable', { url: `/api/accounts/${a.id}/disable` })
          : act('Enable', { url: `/api/accounts/${a.id}/enable` }),
        act('Refresh', { url: `/api/accounts/${a.id}/refresh` }),
        act('Remove', { url: `/api/accounts/${a.id}`, method: 'DELETE' }, `Remove ${a.email || `account #${a.id}`} from Uplink?`, 'danger')));
  }

  function quotaRow(m) {
    const pct = m.remaining_fraction === null ? null : Math.round(m.remaining_fraction * 100);
    const level = pct === null ? '' : pct <= 0 ? 'empty' : pct < 20 ? 'low' : pct < 50 ? 'mid' : 'high';
    const fill = h('span', { class: `fill ${level}` });
    fill.style.width = `${pct === null ? 0 : Math.max(pct, 0)}%`;
    const notes = [];
    if (m.exhausted) notes.push('exhausted: resting until the reset');
    else if (m.cooldown_secs) notes.push(`cooling down for ${duration(m.cooldown_secs)}`);
    if (m.resets_in_secs !== null) notes.push(`resets in ${duration(m.resets_in_secs)}`);
    return h('div', { class: 'quota-row', title: m.reset_time ? `Resets at ${new Date(m.reset_time).toLocaleString()}` : '' },
      h('span', { class: 'model' }, m.model),
      h('span', { class: 'pct' }, pct === null ? '–' : `${pct}%`),
      h('span', { class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct ?? 0, 'aria-label': `${m.model} quota left` }, fill),
      h('span', { class: `note ${m.exhausted || m.cooldown_secs ? 'warn' : ''}` }, notes.join(' · ')));
  }

  function closePanel() {
    if (poll) clearTimeout(poll);
    poll = null;
    replace(panel);
  }

  async function signIn() {
    let started;
    try {
      started = await post('/api/accounts/oauth');
    } catch (e) {
      ctx.fail(e, 'Signing in');
      return;
    }
    const opened = window.open(started.url, '_blank');
    if (opened) opened.opener = null;
    const state = h('p', { id: 'oauth-state' }, 'Waiting for Google… finish signing in in the new tab.');
    const input = h('input', { type: 'text', placeholder: 'http://127.0.0.1:…/api/oauth/callback?state=…&code=…', id: 'oauth-paste' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    replace(panel, h('section', { class: 'card' },
      h('h2', {}, 'Sign in with Google'),
      opened ? null : h('p', {}, 'Your browser blocked the new tab. ', h('a', { href: started.url, target: '_blank', rel: 'noopener' }, 'Open the Google sign-in'), '.'),
      state,
      h('details', {},
        h('summary', {}, 'On another device, or the page did not come back?'),
        h('p', { class: 'hint' }, `Google sends the browser to ${started.redirect_uri}. If that page does not load (a phone, another machine), copy the address it ended up on and paste it here:`),
        h('form', {
          class: 'inline',
          onsubmit: async (event) => {
            event.preventDefault();
            error.textContent = '';
            try {
              finished(await post(`/api/accounts/oauth/${encodeURIComponent(started.state)}/complete`, { input: input.value }));
            } catch (e) {
              error.textContent = e.message;
            }
          },
        }, input, h('button', { type: 'submit', class: 'small' }, 'Complete'))),
      error,
      h('button', { type: 'button', class: 'ghost small', onclick: closePanel }, 'Close')));

    const check = async () => {
      if (stopped) return;
      try {
        const s = await get(`/api/accounts/oauth/${encodeURIComponent(started.state)}`);
        if (s.status === 'done' || s.status === 'failed') {
          finished(s);
          return;
        }
      } catch (e) {
        state.textContent = e.message;
        return;
      }
      poll = setTimeout(check, 1500);
    };
    poll = setTimeout(check, 1500);

    async function finished(s) {
      if (poll) clearTimeout(poll);
      poll = null;
      if (s.status === 'failed') {
        state.textContent = `Sign-in failed: ${s.error}`;
        state.className = 'form-error';
        return;
      }
      ctx.notify(`${s.email} ${s.added ? 'added' : 'updated'}. Fetching its quota…`, 'ok');
      closePanel();
      await load();
      try {
        await post(`/api/accounts/${s.account_id}/refresh`);
      } catch (e) {
        ctx.fail(e, 'Fetching the new account\'s quota');
      }
      load();
    }
  }

  function showImport() {
    const files = h('input', { type: 'file', id: 'import-files', multiple: true, accept: '.json,.txt,application/json,text/plain' });
    const text = h('textarea', { id: 'import-text', rows: 5, placeholder: '[{"refresh_token": "1//…", "email": "me@example.com"}]  or one refresh token per line' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const result = h('div', {});
    replace(panel, h('section', { class: 'card' },
      h('h2', {}, 'Import accounts'),
      h('p', { class: 'hint' }, 'The same formats as uplink accounts import: a JSON array of {refresh_token, email?, project_id?}, Antigravity Tools account files (choose several), or one refresh token per line. One bad entry imports nothing.'),
      h('form', {
        class: 'stack',
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = '';
          const body = { files: [] };
          for (const f of files.files) body.files.push({ name: f.name, text: await f.text() });
          if (text.value.trim()) body.files.push({ name: 'pasted text', text: text.value });
          if (body.files.length === 0) {
            error.textContent = 'Choose a file or paste something to import.';
            return;
          }
          try {
            const r = await post('/api/accounts/import', body);
            replace(result,
              h('p', {}, `Imported ${r.imported}: ${r.added} added, ${r.updated} updated.`),
              r.warnings.map((w) => h('p', { class: 'hint warn' }, w)));
            ctx.notify(`Imported ${r.imported} account(s).`, 'ok');
            text.value = '';
            files.value = '';
            await load();
            // Fetch the quota of a few new accounts now; the gateway's own
            // refresh reaches the rest.
            if (oauthConfigured) {
              for (const a of r.accounts.slice(0, 10)) {
                try { await post(`/api/accounts/${a.id}/refresh`); } catch { /* shown on the card */ }
              }
              load();
            }
          } catch (e) {
            error.textContent = e.message;
          }
        },
      },
      h('label', { for: 'import-files' }, 'Files'), files,
      h('label', { for: 'import-text' }, 'Or paste'), text,
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'do-import' }, 'Import'),
        h('button', { type: 'button', class: 'ghost', onclick: closePanel }, 'Close'))),
      result));
  }

  load();
  const timer = setInterval(() => { if (!document.hidden && !poll) load(); }, 30000);
  return () => {
    stopped = true;
    clearInterval(timer);
    if (poll) clearTimeout(poll);
  };
}
