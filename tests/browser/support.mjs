// Shared helpers for the browser tests: the fake upstream, the gateway, the
// browser, HTTP calls as a client would make them, and screenshots.
//
// No fixed ports and no sleeps to synchronise: servers start on port 0 and
// report their address on a stream we read with a deadline; waits are for a
// condition, with a deadline.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const require = createRequire(join(process.env.UPLINK_BROWSER_NODE_MODULES || '.', 'noop.js'));
export const { chromium } = require('playwright-core');

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const ARTIFACTS = process.env.UPLINK_BROWSER_ARTIFACTS || join(REPO, 'tests/browser/artifacts');
export const PASSWORD = 'browser-admin-pass';
export const KEY = 'sk-browser-test-key-0123';
const STARTUP_MS = 30000;

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/browser/run`);
  return value;
}

/** A child process whose output is kept (and logged to the artifacts). */
class Proc {
  constructor(name, argv, env) {
    this.name = name;
    this.lines = { stdout: [], stderr: [] };
    this.waiters = [];
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, `${name}.log`));
    this.child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of ['stdout', 'stderr']) {
      let rest = '';
      this.child[stream].on('data', (chunk) => {
        log.write(chunk);
        rest += chunk.toString();
        const parts = rest.split('\n');
        rest = parts.pop();
        for (const line of parts) {
          this.lines[stream].push(line);
          for (const w of [...this.waiters]) w();
        }
      });
    }
    this.exited = new Promise((done) => this.child.on('exit', (code, signal) => {
      this.code = code ?? signal;
      for (const w of [...this.waiters]) w();
      done(this.code);
    }));
  }

  /** The first line (already read or to come) matching `re`, within `ms`. */
  waitFor(stream, re, ms = STARTUP_MS) {
    return new Promise((resolvePromise, reject) => {
      let seen = 0;
      const check = () => {
        const lines = this.lines[stream];
        for (; seen < lines.length; seen++) {
          const m = lines[seen].match(re);
          if (m) return finish(null, m);
        }
        if (this.code !== undefined) finish(new Error(`${this.name} exited (${this.code}) before printing ${re}\n${this.tail()}`));
      };
      const timer = setTimeout(() => finish(new Error(`${this.name} did not print ${re} within ${ms} ms\n${this.tail()}`)), ms);
      const finish = (err, m) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        if (err) reject(err); else resolvePromise(m);
      };
      this.waiters.push(check);
      check();
    });
  }

  tail() {
    return ['stdout', 'stderr'].map((s) => `--- ${this.name} ${s} ---\n${this.lines[s].slice(-40).join('\n')}`).join('\n');
  }

  async stop() {
    if (this.code !== undefined) return this.code;
    this.child.kill('SIGTERM');
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 15000));
    if ((await Promise.race([this.exited, timeout])) === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`${this.name} did not exit within 15 s of SIGTERM`);
    }
    return this.code;
  }
}

/** A clean environment: nothing UPLINK_* or proxy-ish leaks in from the caller. */
function cleanEnv(extra) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...extra };
}

export class Fake {
  static async start() {
    const proc = new Proc('fake-upstream', [need('FAKE_UPSTREAM_BIN'), '--port', '0'], cleanEnv({}));
    const m = await proc.waitFor('stdout', /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const fake = new Fake();
    fake.proc = proc;
    fake.url = m[1];
    return fake;
  }

  async control(path, body) {
    const res = await fetch(`${this.url}/__fake${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  stop() {
    return this.proc.stop();
  }
}

/** The fake's default account (see crates/fake-upstream). */
export const ALICE = { refresh_token: 'fake-refresh-token-1', email: 'alice@example.com' };
/** A second account, added to the fake by the tests that use it. */
export const BOB = { refresh_token: 'fake-refresh-token-bob', email: 'bob@example.com' };

export class Gateway {
  /** `uplink serve --port 0` pointed at `fake`, with `accounts` imported first. */
  static async start(fake, { toml = '', accounts = [ALICE], name = 'uplink', authUrl = null } = {}) {
    Gateway.count = (Gateway.count || 0) + 1;
    name = `${name}-${Gateway.count}`;
    const dir = mkdtempSync(join(tmpdir(), 'uplink-browser-'));
    const config = [
      `admin_password = "${PASSWORD}"`,
      `api_key = "${KEY}"`,
      toml,
      '[monitor]',
      'capture_bodies = true',
      '[cloudcode]',
      `endpoints = ["${fake.url}/v1internal"]`,
      '[oauth]',
      `token_url = "${fake.url}/token"`,
      `userinfo_url = "${fake.url}/oauth2/v2/userinfo"`,
      'client_id = "browser-client"',
      'client_secret = "browser-secret"',
      authUrl ? `auth_url = "${authUrl}"` : '',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'config.toml'), config);
    const env = cleanEnv({ UPLINK_DATA_DIR: dir, UPLINK_LOG_LEVEL: 'info', HOME: dir });
    if (accounts.length) {
      writeFileSync(join(dir, 'accounts.json'), JSON.stringify(accounts));
      await run([need('UPLINK_BIN'), 'accounts', 'import', join(dir, 'accounts.json')], env);
    }
    const proc = new Proc(name, [need('UPLINK_BIN'), 'serve', '--port', '0'], env);
    const m = await proc.waitFor('stderr', /listening on (http:\/\/127\.0\.0\.1:(\d+))/);
    const gw = new Gateway();
    Object.assign(gw, { proc, dir, url: m[1], port: Number(m[2]) });
    return gw;
  }

  async stop() {
    const code = await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`the gateway exited with ${code}\n${this.proc.tail()}`);
  }
}

function run(argv, env) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${argv.join(' ')} exited ${code}: ${out}`));
    });
  });
}

/** A chat completion as the OpenAI SDK sends it: [status, body, headers]. */
export async function chat(base, key, model = 'gemini-2.5-flash') {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello from the browser test' }] }),
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body, headers: res.headers };
}

/** An Anthropic Messages call as Claude Code sends it. */
export async function messages(base, model = 'claude-sonnet-4-5') {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' },
    body: JSON.stringify({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hello from Claude' }] }),
  });
  await res.text();
  return res.status;
}

/** A Gemini generateContent call as google-genai sends it. */
export async function generate(base, model = 'gemini-2.5-flash') {
  const res = await fetch(`${base}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'unused' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello from Gemini' }] }] }),
  });
  await res.text();
  return res.status;
}

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: need('UPLINK_CHROMIUM'),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
  return browser;
}

/** A fresh page (laptop-sized unless told) that fails the test on page errors. */
export async function newPage(browser, { width = 1280, height = 860, mobile = false } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: mobile ? 2 : 1,
    isMobile: mobile,
    hasTouch: mobile,
    colorScheme: 'light',
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (msg) => {
    // The browser logs every 4xx it fetches: a 401 before logging in is how
    // the page learns to show the log-in screen, and the tests send bad input
    // on purpose. The page shows those in words; 5xx and script errors count.
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) page.errors.push(`console: ${msg.text()}`);
  });
  page.on('dialog', (d) => d.accept());
  return page;
}

export async function logIn(page, url) {
  await page.goto(`${url}/`);
  await page.waitForSelector('#password');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#page-proxy');
}

/** Save a screenshot artifact; with UPLINK_UPDATE_SCREENSHOTS=1 also for the README. */
export async function shot(page, name, { docs = false, fullPage = true } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (docs && process.env.UPLINK_UPDATE_SCREENSHOTS) {
    const target = join(REPO, 'docs/screenshots');
    mkdirSync(target, { recursive: true });
    copyFileSync(file, join(target, `${name}.png`));
  }
  return file;
}

/** Wait until `f()` is truthy (or throw what it last threw), within `ms`. */
export async function until(f, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
