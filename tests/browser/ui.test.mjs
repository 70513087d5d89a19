// The web UI in headless Chromium against the real gateway and fake upstream.
// Every test ends with a screenshot in the artifacts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALICE, BOB, Fake, Gateway, KEY, PASSWORD, chat, freePort, generate, launch, messages, newPage, logIn, shot, until,
} from './support.mjs';

let browser;
let fake;

before(async () => {
  browser = await launch();
  fake = await Fake.start();
  const reset = new Date(Date.now() + 3 * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  await fake.control('/quota', { email: 'alice@example.com', model: 'gemini-2.5-pro', remaining_fraction: 0.42, reset_time: reset });
  await fake.control('/quota', { email: 'alice@example.com', model: 'claude-sonnet-4-5', remaining_fraction: 0.12, reset_time: reset });
  await fake.control('/accounts', { ...BOB, project: 'fake-project-bob' });
  await fake.control('/quota', { email: BOB.email, model: 'gemini-2.5-flash', remaining_fraction: 0, reset_time: reset });
});

after(async () => {
  if (browser) await browser.close();
  if (fake) await fake.stop();
});

/** A gateway for one test, stopped (and required to exit 0) afterwards. */
async function withGateway(options, body) {
  const gw = await Gateway.start(fake, options);
  try {
    await body(gw);
  } finally {
    await gw.stop();
  }
}

/** The admin API as a script would call it. */
async function admin(gw, path) {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${PASSWORD}` } });
  assert.equal(res.status, 200, path);
  return res.json();
}

async function text(page, selector) {
  return (await page.textContent(selector)).trim();
}

test('log in: a wrong password is refused in words, the right one opens the Proxy page', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await page.goto(`${gw.url}/`);
    assert.match(page.url(), /\/ui$/, 'the root sends a browser to the UI');
    await page.waitForSelector('#password');
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.form-error:not(:empty)');
    assert.match(await text(page, '.form-error'), /Wrong password/);
    await shot(page, 'login', { docs: true });

    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('#proxy-state');
    assert.equal(await text(page, '#proxy-state'), 'Running');
    await page.waitForSelector('#proxy-mapping h2');
    await page.click('#proxy-clients details >> nth=0');
    assert.deepEqual(page.errors, []);
    await shot(page, 'proxy', { docs: true });
  });
});

test('stop and start: a client request fails with 503 while stopped and succeeds after', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    assert.equal((await chat(gw.url)).status, 200);

    await page.click('#proxy-toggle');
    await until(async () => (await text(page, '#proxy-state')) === 'Stopped', 10000, 'the Stopped state');
    const stopped = await chat(gw.url);
    assert.equal(stopped.status, 503);
    assert.equal(stopped.body.error.code, 'proxy_stopped');
    assert.equal(await page.isDisabled('#port'), false, 'the port field is enabled while stopped');
    await shot(page, 'proxy-stopped', { docs: true });

    await page.click('#proxy-toggle');
    await until(async () => (await text(page, '#proxy-state')) === 'Running', 10000, 'the Running state');
    assert.equal(await page.isDisabled('#port'), true, 'the port field is disabled while running');
    assert.equal((await chat(gw.url)).status, 200);
    assert.deepEqual(page.errors, []);
    await shot(page, 'proxy-restarted');
  });
});

test('change the port: the gateway moves, the page follows, clients use the new port', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    await page.click('#proxy-toggle');
    await until(async () => (await text(page, '#proxy-state')) === 'Stopped', 10000, 'the Stopped state');
    const port = await freePort();
    await page.fill('#port', String(port));
    await page.click('#save-settings');
    await page.waitForURL((url) => url.port === String(port), { timeout: 15000 });
    await page.waitForSelector('#proxy-listen');
    assert.equal(await text(page, '#proxy-listen'), `127.0.0.1:${port}`);
    await assert.rejects(fetch(`${gw.url}/healthz`), 'nothing listens on the old port');

    const moved = `http://127.0.0.1:${port}`;
    await page.click('#proxy-toggle');
    await until(async () => (await text(page, '#proxy-state')) === 'Running', 10000, 'the Running state');
    assert.equal((await chat(moved)).status, 200);
    assert.equal(await text(page, '#base-openai'), `${moved}/v1`);
    assert.deepEqual(page.errors, []);
    await shot(page, 'port-changed');
  });
});

test('regenerate the key: the old key stops working, the new one works; a bad key is caught in the page', async () => {
  await withGateway({ toml: 'auth_mode = "strict"' }, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    await page.click('#show-key');
    assert.equal(await text(page, '#api-key'), KEY);

    await page.fill('#new-key', 'nosk-123');
    assert.match(await text(page, '#proxy-key .form-error'), /must start with sk-/);
    assert.equal(await page.isDisabled('#proxy-key form button[type=submit]'), true);
    await page.fill('#new-key', '');

    assert.equal((await chat(gw.url, KEY)).status, 200);
    await page.click('#regenerate-key');
    const fresh = await until(async () => {
      const shown = await text(page, '#api-key');
      return shown !== KEY && shown.startsWith('sk-') ? shown : null;
    }, 10000, 'a new key on the page');
    assert.equal(fresh.length, 35);
    assert.equal((await chat(gw.url, KEY)).status, 401, 'the old key is refused');
    assert.equal((await chat(gw.url, fresh)).status, 200, 'the new key works');
    assert.deepEqual(page.errors, []);
    await shot(page, 'key-regenerated');
  });
});

test('accounts: each account, its status and its quota per model; disabling one', async () => {
  await withGateway({ accounts: [ALICE, BOB] }, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    // The quota comes from the refresh at start, in the background: wait for
    // the API to have it, then open the page.
    await until(async () => {
      const list = await admin(gw, '/api/accounts');
      return list.accounts.every((a) => a.models.length > 0);
    }, 20000, 'the quota refresh');
    await page.click('nav.tabs a[data-page=accounts]');
    const alice = page.locator('.account', { hasText: 'alice@example.com' });
    const bob = page.locator('.account', { hasText: 'bob@example.com' });
    await alice.waitFor();
    assert.equal((await alice.locator('.badge').first().textContent()).trim(), 'active');
    const pro = alice.locator('.quota-row', { has: page.locator('.model', { hasText: /^gemini-2\.5-pro$/ }) });
    assert.match(await pro.textContent(), /42%/);
    assert.match(await pro.textContent(), /resets in (2h 5\dm|3h 0m)/);
    const flash = bob.locator('.quota-row', { has: page.locator('.model', { hasText: /^gemini-2\.5-flash$/ }) });
    assert.match(await flash.textContent(), /0%.*exhausted/);

    await bob.locator('button', { hasText: 'Disable' }).click();
    await until(async () => (await bob.locator('.badge').first().textContent()).trim() === 'disabled', 10000, 'bob disabled');
    assert.match(await bob.textContent(), /disabled by the user/);
    const list = await admin(gw, '/api/accounts');
    assert.equal(list.accounts.find((a) => a.email === BOB.email).status, 'disabled');
    assert.deepEqual(page.errors, []);
    await shot(page, 'accounts', { docs: true });
  });
});

test('monitor: a request appears live, and its detail shows the captured bodies', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    assert.equal((await chat(gw.url, null, 'gemini-2.5-pro')).status, 200);
    assert.equal(await messages(gw.url), 200);
    assert.equal(await generate(gw.url), 200);
    assert.equal((await chat(gw.url, null, '')).status, 400);
    await page.click('nav.tabs a[data-page=monitor]');
    await until(async () => (await text(page, '#live-state')) === 'Live', 10000, 'the live feed');

    const res = await chat(gw.url, null, 'claude-sonnet-4-5');
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id');
    // A locator, not an element handle: the live table re-renders its rows as
    // records arrive, and a handle would point at a row that is gone.
    const row = page.locator(`tr[data-request-id="${id}"]`);
    await row.waitFor({ timeout: 10000 });
    assert.match(await row.textContent(), /claude-sonnet-4-5/);
    assert.match(await row.textContent(), /200/);
    await shot(page, 'monitor', { docs: true });

    await row.click();
    await page.waitForSelector('#request-detail summary:text-is("Request body")', { timeout: 15000 });
    assert.match(await text(page, '#request-detail'), /Hello from the browser test/);
    assert.match(await text(page, '#request-detail'), /content-type: application\/json/);
    assert.deepEqual(page.errors, []);
    await shot(page, 'monitor-detail', { docs: true });
  });
});

test('monitor: a live record that arrives while the stored records load is kept', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    assert.equal((await chat(gw.url, null, 'gemini-2.5-pro')).status, 200);
    await until(async () => (await admin(gw, '/api/requests')).requests.length === 1, 10000, 'the first record stored');
    // The page's first read of the stored records is answered by the gateway
    // now, but reaches the page only after the next request's live record, as
    // on a busy machine.
    let answered;
    const fetched = new Promise((resolve) => { answered = resolve; });
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/requests?*', async (route) => {
      const response = await route.fetch();
      answered();
      await held;
      await route.fulfill({ response });
    }, { times: 1 });
    await page.click('nav.tabs a[data-page=monitor]');
    await fetched;
    await until(async () => (await text(page, '#live-state')) === 'Live', 10000, 'the live feed');

    const res = await chat(gw.url, null, 'claude-sonnet-4-5');
    assert.equal(res.status, 200);
    const live = page.locator(`tr[data-request-id="${res.headers.get('x-request-id')}"]`);
    await live.waitFor({ timeout: 10000 });
    release();
    // The stored page is shown (the first record) and the live row is still there.
    await page.locator('tr[data-request-id]').nth(1).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('tr[data-request-id]').count(), 2);
    assert.equal(await live.count(), 1);
    assert.deepEqual(page.errors, []);
  });
});

test('usage: tokens and requests per model as charts', async () => {
  await withGateway({}, async (gw) => {
    for (const model of ['gemini-2.5-flash', 'gemini-2.5-flash', 'gemini-2.5-pro', 'claude-sonnet-4-5']) {
      assert.equal((await chat(gw.url, null, model)).status, 200);
    }
    const page = await newPage(browser);
    await logIn(page, gw.url);
    await page.click('nav.tabs a[data-page=usage]');
    // Records are written in the background: reload until all four are counted.
    await until(async () => {
      await page.click('#page-usage .toolbar button');
      await page.waitForSelector('#usage-charts .stat strong');
      return (await text(page, '#usage-charts .stat strong')) === '4';
    }, 15000, 'four requests counted');
    assert.ok((await page.$$('svg.chart rect.seg')).length >= 3, 'stacked bars per model');
    assert.match(await text(page, '#usage-charts'), /gemini-2\.5-flash/);
    assert.deepEqual(page.errors, []);
    await shot(page, 'usage', { docs: true });
  });
});

test('add accounts: import pasted tokens, and sign in with Google through the gateway', async () => {
  // Google's sign-in page is played by the fake (it has none: the test plays
  // the browser's return to the gateway with a code the fake will accept).
  await withGateway({ accounts: [], authUrl: `${fake.url}/o/oauth2/v2/auth` }, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    await page.click('nav.tabs a[data-page=accounts]');
    await page.waitForSelector('.card.empty');

    await page.click('#show-import');
    await page.fill('#import-text', 'not a token');
    await page.click('#do-import');
    await page.waitForSelector('.panel-slot .form-error:not(:empty)');
    assert.match(await text(page, '.panel-slot .form-error'), /pasted text/);
    await page.fill('#import-text', JSON.stringify([{ refresh_token: BOB.refresh_token }]));
    await page.click('#do-import');
    await page.waitForSelector('.account:has-text("bob@example.com")');
    assert.match(await text(page, '.panel-slot'), /Imported 1: 1 added/);

    const popupOpened = page.context().waitForEvent('page');
    await page.click('#add-google');
    const popup = await popupOpened;
    await page.waitForSelector('#oauth-state');
    const google = new URL(popup.url());
    const state = google.searchParams.get('state');
    const redirect = google.searchParams.get('redirect_uri');
    assert.equal(redirect, `${gw.url}/api/oauth/callback`);
    await fake.control('/auth_codes', { code: 'browser-code', email: ALICE.email, redirect_uri: redirect });
    await popup.goto(`${redirect}?state=${encodeURIComponent(state)}&code=browser-code&scope=email`);
    assert.match(await popup.textContent('main'), /alice@example\.com was added/);
    await popup.close();
    await page.waitForSelector('.account:has-text("alice@example.com")', { timeout: 15000 });
    assert.equal(await page.$$eval('.account', (cards) => cards.length), 2);
    assert.equal((await chat(gw.url)).status, 200, 'the new accounts serve');
    assert.deepEqual(page.errors, []);
    await shot(page, 'accounts-added');
  });
});

test('model mapping: an entry added in the page changes what a client gets', async () => {
  await withGateway({}, async (gw) => {
    const page = await newPage(browser);
    await logIn(page, gw.url);
    await page.waitForSelector('#map-from');
    await page.fill('#map-from', 'my-model');
    await page.fill('#map-to', 'gemini-2.5-pro');
    await page.click('#proxy-mapping form button[type=submit]');
    await page.waitForSelector('#proxy-mapping td:has-text("my-model")');
    const res = await chat(gw.url, null, 'my-model');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-mapped-model'), 'gemini-2.5-pro');
    await page.click('#proxy-mapping td.actions button');
    await page.waitForSelector('#proxy-mapping :text("No mapping")');
    assert.notEqual((await chat(gw.url, null, 'my-model')).headers.get('x-mapped-model'), 'gemini-2.5-pro');
    assert.deepEqual(page.errors, []);
    await shot(page, 'mapping');
  });
});

test('phone: the pages fit a narrow screen', async () => {
  await withGateway({}, async (gw) => {
    await chat(gw.url);
    const page = await newPage(browser, { width: 390, height: 844, mobile: true });
    await logIn(page, gw.url);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok((await overflow()) <= 1, `no sideways scrolling on Proxy (${await overflow()} px)`);
    await shot(page, 'phone-proxy', { docs: true, fullPage: false });
    await page.click('nav.tabs a[data-page=accounts]');
    await page.waitForSelector('.account');
    assert.ok((await overflow()) <= 1, `no sideways scrolling on Accounts (${await overflow()} px)`);
    await shot(page, 'phone-accounts', { docs: true, fullPage: false });
    await page.click('nav.tabs a[data-page=monitor]');
    await page.waitForSelector('#requests-body tr');
    assert.ok((await overflow()) <= 1, `no sideways scrolling on Monitor (${await overflow()} px)`);
    await shot(page, 'phone-monitor');
    assert.deepEqual(page.errors, []);
  });
});
