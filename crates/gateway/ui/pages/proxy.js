// Proxy: running or stopped, port, LAN access, auth mode, the API key, base
// URLs and client snippets, and the model mapping.

import { get, post, patch, put, del, checkApiKey } from '../api.js';
import { h, replace, copyButton, badge } from '../dom.js';

const AUTH_MODES = [
  ['auto', 'auto', 'A key only when the gateway is reachable from the LAN.'],
  ['off', 'off', 'No key needed.'],
  ['all_except_health', 'all_except_health', 'A key for everything but /healthz and /health.'],
  ['strict', 'strict', 'A key for everything, health checks included.'],
];

export function mount(el, ctx) {
  let status = null;
  let key = null;
  let showKey = false;
  const statusCard = h('section', { class: 'card', id: 'proxy-status' });
  const settingsCard = h('section', { class: 'card', id: 'proxy-settings' });
  const keyCard = h('section', { class: 'card', id: 'proxy-key' });
  const clientsCard = h('section', { class: 'card wide', id: 'proxy-clients' });
  const mappingCard = h('section', { class: 'card wide', id: 'proxy-mapping' });
  el.append(h('div', { class: 'grid' }, statusCard, settingsCard, keyCard, clientsCard, mappingCard));

  async function load() {
    try {
      status = await get('/api/status');
      ctx.setStatus(status);
      key = (await get('/api/proxy/api-key')).api_key;
    } catch (e) {
      ctx.fail(e, 'Loading the proxy status');
      return;
    }
    renderStatus();
    renderSettings();
    renderKey();
    renderClients();
  }

  async function toggle() {
    try {
      status = await post(status.running ? '/api/proxy/stop' : '/api/proxy/start');
      ctx.setStatus(status);
      ctx.notify(status.running ? 'The proxy is running.' : 'The proxy is stopped: model requests now get 503.');
      renderStatus();
      renderSettings();
    } catch (e) {
      ctx.fail(e, 'Start/stop');
    }
  }

  function renderStatus() {
    const running = status.running;
    replace(statusCard,
      h('h2', {}, 'Status'),
      h('div', { class: 'status-line' },
        h('span', { class: `dot ${running ? 'ok' : 'warn'}` }),
        h('strong', { id: 'proxy-state' }, running ? 'Running' : 'Stopped'),
        h('button', {
          type: 'button', id: 'proxy-toggle', class: running ? 'danger' : 'primary', onclick: toggle,
        }, running ? 'Stop' : 'Start')),
      h('p', { class: 'muted' }, running
        ? 'Model requests are served.'
        : 'Model requests get 503 in their own protocol. This page keeps working.'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Listening on'), h('dd', {}, h('code', { id: 'proxy-listen' }, status.listen)),
        h('dt', {}, 'Accounts'), h('dd', {}, `${status.accounts.usable} usable of ${status.accounts.total}`),
        h('dt', {}, 'Version'), h('dd', {}, status.version),
        h('dt', {}, 'Config file'), h('dd', {}, h('code', { class: 'path' }, status.config_file))));
  }

  function renderSettings() {
    const running = status.running;
    const port = h('input', {
      type: 'number', id: 'port', min: 0, max: 65535, value: status.port, disabled: running, inputmode: 'numeric',
    });
    const lan = h('input', { type: 'checkbox', id: 'lan', checked: status.allow_lan_access, disabled: Boolean(status.bind) });
    const mode = h('select', { id: 'auth-mode' },
      AUTH_MODES.map(([value, label]) => h('option', { value, selected: value === status.auth_mode_setting }, label)));
    const modeHint = h('p', { class: 'hint' });
    const describeMode = () => { modeHint.textContent = AUTH_MODES.find((m) => m[0] === mode.value)[2]; };
    mode.addEventListener('change', describeMode);
    describeMode();
    const error = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'save-settings' }, 'Save');
    replace(settingsCard,
      h('h2', {}, 'Network and access'),
      h('form', {
        class: 'stack',
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = '';
          const body = {};
          const wanted = Number(port.value);
          if (!running && port.value !== '' && wanted !== status.port) {
            if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) {
              error.textContent = 'The port is a number from 1 to 65535 (0 picks a free one).';
              return;
            }
            body.port = wanted;
          }
          if (lan.checked !== status.allow_lan_access) body.allow_lan_access = lan.checked;
          if (mode.value !== status.auth_mode_setting) body.auth_mode = mode.value;
          if (Object.keys(body).length === 0) {
            ctx.notify('Nothing to change.');
            return;
          }
          save.disabled = true;
          try {
            const next = await patch('/api/proxy', body);
            if (next.port !== status.port) {
              moveTo(next);
              return;
            }
            status = next;
            ctx.setStatus(status);
            ctx.notify('Saved and applied.', 'ok');
            renderStatus();
            renderSettings();
            renderClients();
          } catch (e) {
            error.textContent = e.message;
          } finally {
            save.disabled = false;
          }
        },
      },
      h('label', { for: 'port' }, 'Port'),
      port,
      running ? h('p', { class: 'hint', id: 'port-hint' }, 'Stop the proxy to change the port.') : null,
      h('label', { class: 'check' }, lan, ' Allow LAN access (listen on all interfaces)'),
      status.bind ? h('p', { class: 'hint' }, `bind = ${status.bind} is configured and overrides LAN access.`) : null,
      h('label', { for: 'auth-mode' }, 'Client auth mode'),
      mode,
      modeHint,
      h('p', { class: 'hint' }, 'In force now: ', h('strong', { id: 'auth-effective' }, status.auth_mode),
        status.lan_exposed ? ' (reachable from the network)' : ' (this machine only)'),
      error,
      save));
  }

  /** The gateway now listens elsewhere: follow it there. */
  function moveTo(next) {
    const url = new URL(location.href);
    url.port = String(next.port);
    ctx.notify(`Now listening on port ${next.port}; moving this page there…`, 'ok');
    setTimeout(() => { location.href = url.toString(); }, 600);
  }

  function renderKey() {
    const masked = key ? `${key.slice(0, 6)}${'•'.repeat(Math.max(4, key.length - 6))}` : '(no key)';
    const input = h('input', { type: 'text', id: 'new-key', placeholder: 'sk-…', autocomplete: 'off', spellcheck: 'false' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const setButton = h('button', { type: 'submit', class: 'small' }, 'Set key');
    input.addEventListener('input', () => {
      const problem = input.value ? checkApiKey(input.value) : null;
      error.textContent = problem || '';
      setButton.disabled = Boolean(problem);
    });
    replace(keyCard,
      h('h2', {}, 'API key'),
      h('div', { class: 'key-row' },
        h('code', { id: 'api-key', class: 'key' }, showKey ? (key || '(no key)') : masked),
        h('button', {
          type: 'button', class: 'small', id: 'show-key',
          onclick: () => { showKey = !showKey; renderKey(); renderClients(); },
        }, showKey ? 'Hide' : 'Show'),
        key ? copyButton(() => key, ctx.notify) : null,
        h('button', {
          type: 'button', class: 'small danger', id: 'regenerate-key',
          onclick: async () => {
            if (!confirm('Make a new API key? The current one stops working at once.')) return;
            try {
              key = (await post('/api/proxy/api-key')).api_key;
              showKey = true;
              ctx.notify('A new key is in force. Update your clients.', 'ok');
              await load();
            } catch (e) {
              ctx.fail(e, 'Regenerating the key');
            }
          },
        }, 'Regenerate')),
      status.admin_password === 'api_key'
        ? h('p', { class: 'hint' }, 'No admin_password is set, so this key is also the admin password.')
        : null,
      h('form', {
        class: 'inline',
        onsubmit: async (event) => {
          event.preventDefault();
          const value = input.value.trim();
          const problem = checkApiKey(value);
          if (problem) {
            error.textContent = problem;
            return;
          }
          try {
            await patch('/api/proxy', { api_key: value });
            key = value;
            ctx.notify('The new key is in force.', 'ok');
            await load();
          } catch (e) {
            error.textContent = e.message;
          }
        },
      }, input, setButton),
      error);
  }

  function renderClients() {
    const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
    const base = `http://${host}:${status.port}`;
    const needKey = status.auth_mode !== 'off';
    const realKey = needKey && key ? key : 'uplink';
    const shownKey = needKey && key && !showKey ? '<your API key>' : realKey;
    const snippets = [
      ['OpenAI SDK (Python)', (k) => `from openai import OpenAI\n\nclient = OpenAI(base_url="${base}/v1", api_key="${k}")\nreply = client.chat.completions.create(\n    model="gemini-2.5-flash",\n    messages=[{"role": "user", "content": "Hello"}],\n)\nprint(reply.choices[0].message.content)`],
      ['Claude Code', (k) => `export ANTHROPIC_BASE_URL=${base}\nexport ANTHROPIC_API_KEY=${k}\nclaude`],
      ['Gemini SDK (google-genai)', (k) => `from google import genai\nfrom google.genai.types import HttpOptions\n\nclient = genai.Client(api_key="${k}", http_options=HttpOptions(base_url="${base}"))\nprint(client.models.generate_content(model="gemini-2.5-flash", contents="Hello").text)`],
      ['Codex CLI (~/.codex/config.toml)', (k) => `model_provider = "uplink"\n\n[model_providers.uplink]\nname = "Uplink"\nbase_url = "${base}/v1"\nwire_api = "responses"\nenv_key = "UPLINK_API_KEY"\n\n# then: export UPLINK_API_KEY=${k}`],
      ['Gemini CLI', (k) => `# ~/.gemini/settings.json: {"security": {"auth": {"selectedType": "gemini-api-key"}}}\nexport GOOGLE_GEMINI_BASE_URL=${base}\nexport GEMINI_API_KEY=${k}\ngemini`],
    ];
    replace(clientsCard,
      h('h2', {}, 'Base URLs and clients'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'OpenAI SDKs, Codex'), h('dd', {}, h('code', { id: 'base-openai' }, `${base}/v1`), ' ', copyButton(`${base}/v1`, ctx.notify)),
        h('dt', {}, 'Anthropic SDK, Claude Code'), h('dd', {}, h('code', {}, base), ' ', copyButton(base, ctx.notify)),
        h('dt', {}, 'Gemini SDKs, Gemini CLI'), h('dd', {}, h('code', {}, base), ' ', copyButton(base, ctx.notify))),
      needKey ? null : h('p', { class: 'hint' }, 'Auth is off: any key works, the snippets use "uplink".'),
      h('div', { class: 'snippets' },
        snippets.map(([title, text]) => h('details', { class: 'snippet' },
          h('summary', {}, title),
          h('div', { class: 'snippet-body' },
            h('pre', {}, h('code', {}, text(shownKey))),
            copyButton(() => text(realKey), ctx.notify))))));
  }

  async function loadMapping() {
    let data;
    try {
      data = await get('/api/models');
    } catch (e) {
      ctx.fail(e, 'Loading the model mapping');
      return;
    }
    renderMapping(data);
  }

  function renderMapping(data) {
    const from = h('input', { type: 'text', placeholder: 'requested name or pattern, e.g. gpt-4o-*', id: 'map-from' });
    const to = h('input', { type: 'text', placeholder: 'upstream model', id: 'map-to', list: 'served-models' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const rows = Object.entries(data.mapping);
    replace(mappingCard,
      h('h2', {}, 'Model mapping'),
      h('p', { class: 'muted' }, 'Exact names win over patterns (* matches anything); names without a mapping use the built-in family rules.'),
      rows.length === 0 ? h('p', { class: 'muted' }, 'No mapping: the built-in rules decide.') : h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Requested'), h('th', {}, 'Upstream model'), h('th', {}, ''))),
        h('tbody', {}, rows.map(([f, t]) => h('tr', {},
          h('td', {}, h('code', {}, f)),
          h('td', {}, h('code', {}, t)),
          h('td', { class: 'actions' }, h('button', {
            type: 'button', class: 'small ghost',
            onclick: async () => {
              try {
                renderMapping(await del(`/api/models/mapping/${encodeURIComponent(f)}`));
              } catch (e) {
                ctx.fail(e, 'Removing the mapping');
              }
            },
          }, 'Remove')))))),
      h('datalist', { id: 'served-models' }, data.served.map((m) => h('option', { value: m }))),
      h('form', {
        class: 'inline',
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = '';
          if (!from.value.trim() || !to.value.trim()) {
            error.textContent = 'Give both the requested name and the upstream model.';
            return;
          }
          try {
            renderMapping(await put(`/api/models/mapping/${encodeURIComponent(from.value.trim())}`, { to: to.value.trim() }));
          } catch (e) {
            error.textContent = e.message;
          }
        },
      }, from, h('span', { class: 'arrow' }, '→'), to, h('button', { type: 'submit', class: 'small' }, 'Add')),
      error,
      h('p', { class: 'hint' }, 'Served: ', data.served.map((m) => badge(m, 'plain'))));
  }

  load();
  loadMapping();
  return () => {};
}
