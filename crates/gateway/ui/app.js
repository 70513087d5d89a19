// The shell: log-in screen, navigation, notices, and the four pages.

import { get, post, onUnauthorized, ApiError } from './api.js';
import { h, replace } from './dom.js';
import * as proxy from './pages/proxy.js';
import * as accounts from './pages/accounts.js';
import * as monitor from './pages/monitor.js';
import * as usage from './pages/usage.js';

const PAGES = [
  { id: 'proxy', title: 'Proxy', page: proxy },
  { id: 'accounts', title: 'Accounts', page: accounts },
  { id: 'monitor', title: 'Monitor', page: monitor },
  { id: 'usage', title: 'Usage', page: usage },
];

const root = document.getElementById('app');
let current = null; // { id, unmount }
let statusPill = null;
let notices = null;

/** Show a notice: errors stay until dismissed, the rest fade out. */
function notify(message, kind = 'info') {
  if (!notices) return;
  const item = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  notices.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 4000);
}

/** Report an error from the API in words. */
function fail(error, what) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  notify(what ? `${what}: ${message}` : message, 'error');
}

function setStatus(status) {
  if (!statusPill || !status) return;
  statusPill.textContent = status.running ? 'Running' : 'Stopped';
  statusPill.className = `pill ${status.running ? 'ok' : 'warn'}`;
  statusPill.title = `Listening on ${status.listen}`;
}

const ctx = { notify, fail, setStatus, refreshStatus };

async function refreshStatus() {
  try {
    const status = await get('/api/status');
    setStatus(status);
    return status;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) fail(e, 'Status');
    return null;
  }
}

function showLogin(message) {
  unmountPage();
  const error = h('p', { class: 'form-error', role: 'alert' }, message || '');
  const password = h('input', {
    type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true,
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', {
    class: 'card login',
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      error.textContent = '';
      try {
        await post('/api/login', { password: password.value });
        await start();
      } catch (e) {
        error.textContent = e.message;
        password.select();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('div', { class: 'brand big' }, h('img', { src: '/ui/favicon.svg', alt: '' }), 'Uplink'),
  h('h1', {}, 'Log in'),
  h('label', { for: 'password' }, 'Admin password'),
  password,
  error,
  button,
  h('p', { class: 'hint' },
    'The admin password is admin_password from the configuration; when that is not set, it is the API key (',
    h('code', {}, 'uplink config show-key'), ').'));
  replace(root, h('main', { class: 'login-screen' }, form));
  password.focus();
}

function unmountPage() {
  if (current && current.unmount) {
    try { current.unmount(); } catch { /* a page failing to clean up must not block the next */ }
  }
  current = null;
}

function showShell() {
  statusPill = h('span', { class: 'pill' }, '…');
  notices = h('div', { class: 'notices' });
  const nav = h('nav', { class: 'tabs', 'aria-label': 'Pages' },
    PAGES.map((p) => h('a', { href: `#/${p.id}`, dataset: { page: p.id } }, p.title)));
  const logout = h('button', {
    type: 'button',
    class: 'small ghost',
    onclick: async () => {
      try { await post('/api/logout'); } catch { /* logged out either way */ }
      showLogin('You are logged out.');
    },
  }, 'Log out');
  const main = h('main', { id: 'page' });
  replace(root,
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/proxy' }, h('img', { src: '/ui/favicon.svg', alt: '' }), 'Uplink'),
      nav,
      h('div', { class: 'top-right' }, statusPill, logout)),
    notices,
    main);
}

function route() {
  const main = document.getElementById('page');
  if (!main) return;
  const id = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'proxy';
  const entry = PAGES.find((p) => p.id === id) || PAGES[0];
  for (const a of document.querySelectorAll('nav.tabs a')) {
    a.classList.toggle('active', a.dataset.page === entry.id);
    if (a.dataset.page === entry.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  unmountPage();
  document.title = `${entry.title} · Uplink`;
  replace(main, h('h1', { class: 'page-title' }, entry.title));
  const section = h('div', { class: 'page', id: `page-${entry.id}` });
  main.append(section);
  current = { id: entry.id, unmount: entry.page.mount(section, ctx) };
}

async function start() {
  let status;
  try {
    status = await get('/api/status');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showLogin();
      return;
    }
    replace(root, h('main', { class: 'login-screen' },
      h('div', { class: 'card' }, h('h1', {}, 'Uplink is not answering'), h('p', {}, e.message))));
    return;
  }
  showShell();
  setStatus(status);
  route();
}

onUnauthorized(() => showLogin('Your session ended. Log in again.'));
window.addEventListener('hashchange', route);
start();
