// The web page in a real browser (Debian's chromium, driven by playwright-core):
// a temp git repo with a tracker, a real htrac-serve on a free loopback port,
// and two signed-in browser contexts. It signs in with a password, checks the
// ready queue against `htrac ready --json`, creates an item through the form
// and sees it appear live in the second page, discusses on it (live too),
// follows dependency links, queues a message while offline and sees it sent
// when back online, checks phone width, and logs out (the API then says 401);
// then registers a passkey from a `register-key` link with Chromium's
// virtual authenticator and signs in with it.
//
// Run by tests/serve/browser.rs (`cargo test --features serve --test serve browser`), or by
// hand: HTRAC_BIN=target/debug/htrac HTRAC_SERVE_BIN=target/debug/htrac-serve
// node tests/browser/web.test.mjs. Screenshots of every page, the server log
// and the browser console go to target/browser/ when a step fails.

import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HTRAC = process.env.HTRAC_BIN || path.join(ROOT, 'target/debug/htrac');
const SERVE = process.env.HTRAC_SERVE_BIN || path.join(ROOT, 'target/debug/htrac-serve');
const CHROMIUM = process.env.HTRAC_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.HTRAC_BROWSER_ARTIFACTS || path.join(ROOT, 'target/browser');
const USER = 'alice';
const PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15000;
const TOTAL_MS = 240000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'htrac-browser-'));
const repo = path.join(tmp, 'repo');
const env = {
  ...process.env,
  HTRAC_CACHE_DIR: path.join(tmp, 'cache'),
  HTRAC_STATE_DIR: path.join(tmp, 'state'),
  XDG_CONFIG_HOME: path.join(tmp, 'config'),
  XDG_DATA_HOME: path.join(tmp, 'data'),
};
delete env.XDG_CACHE_HOME;

const pages = new Map(); // name → page
const inflight = new Map(); // request → `[page] METHOD url` and when it started
const consoleLog = [];
const problems = []; // uncaught page errors and CSP violations
let server = null;
let serverLog = '';
let browser = null;
let currentStep = 'setup';

function log(...args) {
  console.log(...args);
}

// ---------------------------------------------------------------- helpers

function run(cmd, args, { input, cwd = repo } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, input, encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r.stdout;
}

const git = (...args) => run('git', args);
const htrac = (...args) => run(HTRAC, args);
const htracJson = (...args) => JSON.parse(htrac('--json', ...args));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; fails with `what` after WAIT_MS. */
async function until(what, fn, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what} (last: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  await fn();
  log(`ok - ${name} (${Date.now() - t0} ms)`);
}

function watch(name, page) {
  pages.set(name, page);
  page.on('console', (m) => {
    const text = m.text();
    consoleLog.push(`[${name}] ${m.type()}: ${text}`);
    if (/Content Security Policy|Refused to (execute|load|apply|connect|evaluate)/i.test(text)) {
      problems.push(`[${name}] CSP violation: ${text}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`[${name}] uncaught error: ${e.message}`));
  // Requests still open when a step fails are written to failure.txt.
  page.on('request', (r) => inflight.set(r, { what: `[${name}] ${r.method()} ${r.url()}`, at: Date.now() }));
  page.on('requestfinished', (r) => inflight.delete(r));
  page.on('requestfailed', (r) => {
    consoleLog.push(`[${name}] request failed: ${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`);
    inflight.delete(r);
  });
  return page;
}

/** The titles in the list pane, in order. */
const listTitles = (page) => page.$$eval('#item-list a.item-row .title', (els) => els.map((e) => e.textContent));
const detailTitle = (page) => page.$eval('#detail-title', (e) => e.textContent).catch(() => null);
const discussion = (page) => page.$$eval('#detail .discussion li .text', (els) => els.map((e) => e.textContent));
const connState = (page) => page.$eval('#conn', (e) => e.dataset.state);
const connText = (page) => page.$eval('#conn-text', (e) => e.textContent);
const hash = (page) => page.evaluate(() => location.hash);

async function signIn(page, base) {
  await page.goto(base + '/');
  await page.getByLabel('User name').waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#app-view').waitFor({ state: 'visible', timeout: WAIT_MS });
  await until('the live connection', async () => (await connState(page)) === 'live');
}

async function openItem(page, title) {
  await page.locator('#item-list a.item-row', { hasText: title }).first().click();
  await until(`the detail of "${title}"`, async () => (await detailTitle(page)) === title);
}

// ---------------------------------------------------------------- failure

async function saveArtifacts(err) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const slug = currentStep.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  for (const [name, page] of pages) {
    const file = path.join(ARTIFACTS, `${slug}-${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
      console.error(`screenshot: ${file}`);
    } catch (e) {
      console.error(`no screenshot of ${name}: ${e.message}`);
    }
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'server.log'), serverLog);
  fs.writeFileSync(path.join(ARTIFACTS, 'console.log'), consoleLog.join('\n') + '\n');
  const open = [...inflight.values()].map((r) => `  ${r.what} (open for ${Date.now() - r.at} ms)`).join('\n');
  fs.writeFileSync(path.join(ARTIFACTS, 'failure.txt'),
    `step: ${currentStep}\n${err && err.stack ? err.stack : err}\nrequests still open:\n${open || '  (none)'}\n`);
  console.error(`server log, browser console and failure.txt are in ${ARTIFACTS}`);
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

// ---------------------------------------------------------------- the test

async function main() {
  for (const [what, p] of [['htrac', HTRAC], ['htrac-serve', SERVE], ['chromium', CHROMIUM]]) {
    check(fs.existsSync(p), `${what} not found at ${p} (set HTRAC_BIN / HTRAC_SERVE_BIN / HTRAC_CHROMIUM)`);
  }

  let A;
  let B;
  let C;
  await step('a tracker with three items and a password', async () => {
    fs.mkdirSync(repo);
    git('init', '-q', '-b', 'dev');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'Test');
    git('config', 'commit.gpgsign', 'false');
    git('commit', '-q', '--allow-empty', '-m', 'root');
    htrac('init');
    A = htrac('add', '--kind', 'work_item', '--title', 'Parse the config file', '--priority', '1', '--tag', 'core').trim();
    // B comes before A, so A waits for B (and is not ready).
    B = htrac('add', '--kind', 'work_item', '--title', 'Write the README', '--priority', '3', '--isbefore', A).trim();
    C = htrac('add', '--kind', 'work_item', '--title', 'Handle YAML anchors', '--parent', A).trim();
    run(SERVE, ['passwd', '--user', USER], { input: `${PASSWORD}\n` });
  });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await step('htrac-serve starts on a loopback port', async () => {
    server = spawn(SERVE, ['--port', String(port), '--bind', '127.0.0.1'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => { serverLog += d; });
    server.stderr.on('data', (d) => { serverLog += d; });
    await until('GET /health answers 200', async () => {
      check(server.exitCode === null, `htrac-serve exited with ${server.exitCode}:\n${serverLog}`);
      const r = await fetch(`${base}/health`).catch(() => null);
      return r && r.status === 200;
    }, 30000);
    const me = await fetch(`${base}/api/auth/me`);
    check(me.status === 401, `/api/auth/me without a session answered ${me.status}, not 401`);
  });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const ctx1 = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const ctx2 = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page1 = watch('page1', await ctx1.newPage());
  const page2 = watch('page2', await ctx2.newPage());

  await step('a wrong password is refused on the page', async () => {
    await page1.goto(base + '/');
    await page1.getByLabel('User name').fill(USER);
    await page1.getByLabel('Password').fill('not the password');
    await page1.getByRole('button', { name: 'Sign in', exact: true }).click();
    await until('the wrong-password message', async () =>
      /wrong user name or password/i.test(await page1.textContent('#login-error')));
    check(await page1.locator('#app-view').isHidden(), 'the tracker showed after a wrong password');
  });

  await step('sign in with the password; the ready queue matches `htrac ready`', async () => {
    // The server slows down repeated failures (2 s after the first one).
    await sleep(2500);
    await signIn(page1, base);
    const wantTitles = htracJson('ready').ready.map((it) => it.title);
    check(wantTitles.includes('Write the README') && !wantTitles.includes('Parse the config file'),
      `unexpected CLI ready queue ${JSON.stringify(wantTitles)}`);
    await until(`the ready queue ${JSON.stringify(wantTitles)}`, async () =>
      JSON.stringify(await listTitles(page1)) === JSON.stringify(wantTitles));
    check(/^Live/.test(await connText(page1)), `indicator says "${await connText(page1)}"`);
  });

  await step('a second browser signs in and shows all items', async () => {
    await signIn(page2, base);
    await page2.getByRole('link', { name: 'All items' }).click();
    await until('all three items in page2', async () => (await listTitles(page2)).length === 3);
    await page2.evaluate(() => { window.htracNoReload = true; });
  });

  await step('the service worker caches the shell only, under the build\'s name', async () => {
    const build = await page2.$eval('meta[name="htrac-build"]', (m) => m.content);
    check(/^[0-9a-f]{6,}$/.test(build), `htrac-serve did not fill in the build id (${build})`);
    const sw = await until('an active service worker', () => page2.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return reg.active && reg.active.scriptURL;
    }));
    check(sw.endsWith(`/service-worker.js?v=${build}`), `service worker ${sw}`);
    const cached = await until('the shell cache', () => page2.evaluate(async () => {
      const names = await caches.keys();
      if (names.length !== 1) return null;
      const keys = await (await caches.open(names[0])).keys();
      return { name: names[0], urls: keys.map((r) => new URL(r.url).pathname) };
    }));
    check(cached.name === `htrac-shell-${build}`, `cache name ${cached.name}`);
    check(cached.urls.includes('/js/main.js') && cached.urls.includes('/'), `cached: ${cached.urls}`);
    check(!cached.urls.some((u) => u.startsWith('/api') || u.startsWith('/ws')), `API answers cached: ${cached.urls}`);
  });

  let newId;
  const newTitle = 'Made in the browser <b>not bold</b>';
  await step('Esc closes the new-item dialog and gives focus back', async () => {
    await page1.getByRole('button', { name: 'New item' }).click();
    await page1.locator('#item-dialog[open]').waitFor({ timeout: WAIT_MS });
    await page1.keyboard.press('Escape');
    await until('the dialog to close', async () => !(await page1.$('#item-dialog[open]')));
    await until('focus back on New item', () => page1.evaluate(() => document.activeElement && document.activeElement.id === 'new-item'));
  });

  await step('create an item with the form', async () => {
    await page1.getByRole('button', { name: 'New item' }).click();
    const dlg = page1.locator('#item-dialog');
    await dlg.getByLabel('Title').fill(newTitle);
    await dlg.getByLabel('Priority').selectOption('2');
    await dlg.getByLabel('Tags').fill('web, ui');
    await dlg.getByLabel('Description').fill('Line one\nLine two');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await until('the new item\'s page', async () => (await detailTitle(page1)) === newTitle);
    newId = decodeURIComponent((await hash(page1)).replace('#/item/', ''));
    const shown = htracJson('show', newId);
    check(shown.title === newTitle, `htrac show: title ${JSON.stringify(shown.title)}`);
    check(JSON.stringify(shown.tags) === JSON.stringify(['web', 'ui']), `htrac show: tags ${JSON.stringify(shown.tags)}`);
    check(shown.priority === 2, `htrac show: priority ${shown.priority}`);
    check(shown.description === 'Line one\nLine two', `htrac show: description ${JSON.stringify(shown.description)}`);
    // Rendered as text, not markup.
    check((await page1.$$('#detail-title b')).length === 0, 'the title was rendered as HTML');
  });

  await step('the form offers the config\'s kinds and their custom fields', async () => {
    await page1.getByRole('button', { name: 'New item' }).click();
    const dlg = page1.locator('#item-dialog');
    await dlg.getByLabel('Kind').selectOption('invariant');
    await dlg.getByLabel('Title').fill('Every op line ends with its nonce');
    await dlg.getByLabel('statement (required)').fill('each line carries # nonce');
    await dlg.getByLabel('root_cause (required)').fill('union merges must not mix lines');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await until('the invariant\'s page', async () => (await detailTitle(page1)) === 'Every op line ends with its nonce');
    const inv = htracJson('show', decodeURIComponent((await hash(page1)).replace('#/item/', '')));
    check(inv.kind === 'invariant' && inv.fields.statement === 'each line carries # nonce'
      && inv.fields.root_cause === 'union merges must not mix lines', `htrac show: ${JSON.stringify(inv)}`);
    await page1.goto(`${base}/#/item/${encodeURIComponent(newId)}`);
    await until('back on the new item', async () => (await detailTitle(page1)) === newTitle);
  });

  await step('the new item appears live in the second page', async () => {
    await until('the new item in page2\'s list', async () => (await listTitles(page2)).includes(newTitle));
    check(await page2.evaluate(() => window.htracNoReload === true), 'page2 was reloaded instead of updated live');
  });

  const message = 'Hello from the browser: <script>alert(1)</script>';
  await step('discuss on the item; both pages show the message', async () => {
    await openItem(page2, newTitle);
    await page1.getByLabel('Add to the discussion').fill(message);
    await page1.getByRole('button', { name: 'Send' }).click();
    await until('the message in page1', async () => (await discussion(page1)).includes(message));
    await until('the message in page2 (live)', async () => (await discussion(page2)).includes(message));
    check(await page1.getByLabel('Add to the discussion').inputValue() === '', 'the message box was not cleared');
    const d = htracJson('show', newId).discussion;
    const last = d[d.length - 1];
    check(last && last.message === message, `htrac show: discussion ${JSON.stringify(d)}`);
    check(last.by === 'human' && last.actor === USER, `the message is by ${last.by}/${last.actor}, want human/${USER}`);
  });

  await step('a CLI write reaches the open page live', async () => {
    htrac('discuss', newId, 'Written with the CLI', '--ack-thread');
    await until('the CLI message in page1', async () => (await discussion(page1)).includes('Written with the CLI'));
  });

  await step('a claim made with the CLI shows who holds the item, live', async () => {
    const as = { cwd: repo, env: { ...env, HTRAC_SESSION: 'web-agent' }, encoding: 'utf8' };
    const r = spawnSync(HTRAC, ['claim', newId], as);
    check(r.status === 0, `htrac claim: ${r.stderr}`);
    const badge = page1.locator('.detail .badges .badge.claim');
    await until('the claim badge in the open item', async () =>
      (await badge.count()) === 1 && (await badge.innerText()).includes('web-agent'));
    const back = spawnSync(HTRAC, ['release', newId], as);
    check(back.status === 0, `htrac release: ${back.stderr}`);
    await until('the badge gone after the release', async () => (await badge.count()) === 0);
  });

  await step('follow dependency links: before, after, parent', async () => {
    await page1.getByRole('link', { name: 'Ready' }).click();
    await openItem(page1, 'Write the README');
    await page1.locator('#detail dt:text-is("Before") + dd a', { hasText: 'Parse the config file' }).click();
    await until('the item B comes before', async () => (await detailTitle(page1)) === 'Parse the config file');
    check((await hash(page1)) === `#/item/${encodeURIComponent(A)}`, `hash ${await hash(page1)}`);
    await page1.locator('#detail dt:text-is("After") + dd a', { hasText: 'Write the README' }).waitFor({ timeout: WAIT_MS });
    await page1.locator('#detail dt:text-is("Children") + dd a', { hasText: 'Handle YAML anchors' }).click();
    await until('the child', async () => (await detailTitle(page1)) === 'Handle YAML anchors');
    await page1.locator('#detail dt:text-is("Parent") + dd a', { hasText: 'Parse the config file' }).click();
    await until('back at the parent', async () => (await detailTitle(page1)) === 'Parse the config file');
    void B;
    void C;
  });

  const offlineMessage = 'Written while offline';
  await step('offline: a message is queued, then sent when back online', async () => {
    await page1.goto(`${base}/#/item/${encodeURIComponent(newId)}`);
    await until('the item page', async () => (await detailTitle(page1)) === newTitle);
    await until('live again after the reload', async () => (await connState(page1)) === 'live');
    await ctx1.setOffline(true);
    await until('the indicator to say offline', async () => (await connState(page1)) === 'offline');
    await page1.getByLabel('Add to the discussion').fill(offlineMessage);
    await page1.getByRole('button', { name: 'Send' }).click();
    await until('the indicator to count the queued message', async () => /1 queued/.test(await connText(page1)));
    check(!htracJson('show', newId).discussion.some((e) => e.message === offlineMessage), 'sent while offline?');
    await ctx1.setOffline(false);
    await until('the queued message in page1', async () => (await discussion(page1)).includes(offlineMessage), 40000);
    await until('an empty queue', async () => !/queued|failed/.test(await connText(page1)));
    const all = htracJson('show', newId).discussion.filter((e) => e.message === offlineMessage);
    check(all.length === 1, `the queued message is on disk ${all.length} times`);
  });

  const lostMessage = 'Applied, but its answer was lost';
  await step('a change whose answer was lost is applied once when retried from the outbox', async () => {
    // page1's WebSockets from now on pass through here. While `lose` is set,
    // a command reaches the server but its answer never reaches the page:
    // the page's socket is closed instead, as if the connection dropped.
    let lose = false;
    let lost = 0;
    await page1.routeWebSocket((url) => url.pathname === '/ws', (ws) => {
      const server = ws.connectToServer();
      let waiting = null;
      ws.onMessage((m) => {
        if (lose && waiting === null) {
          try {
            const msg = JSON.parse(m);
            if (msg.type === 'command') waiting = msg.id;
          } catch (e) { /* not JSON: passed on as it is */ }
        }
        server.send(m);
      });
      server.onMessage((m) => {
        let msg = null;
        try { msg = JSON.parse(m); } catch (e) { /* not JSON */ }
        if (waiting !== null && msg && msg.id === waiting) {
          lose = false;
          waiting = null;
          lost += 1;
          ws.close({ code: 4000, reason: 'answer lost' });
          server.close();
          return;
        }
        ws.send(m);
      });
    });
    await page1.reload();
    await until('the item page', async () => (await detailTitle(page1)) === newTitle);
    await until('live through the route', async () => (await connState(page1)) === 'live');
    lose = true;
    await page1.getByLabel('Add to the discussion').fill(lostMessage);
    await page1.getByRole('button', { name: 'Send' }).click();
    await until('the answer to be lost', async () => lost === 1);
    const onDisk = () => htracJson('show', newId).discussion.filter((e) => e.message === lostMessage).length;
    check(onDisk() === 1, `the message reached the server ${onDisk()} times`);
    const row = page1.locator('#outbox-list li[data-state="failed"]', { hasText: lostMessage });
    await row.waitFor({ timeout: WAIT_MS });
    check(await page1.getByLabel('Add to the discussion').inputValue() === '',
      'the message stayed in the box, to be sent again under a new key');
    await until('live again', async () => (await connState(page1)) === 'live');
    await row.getByRole('button', { name: 'Retry' }).click();
    await until('the confirmation', async () =>
      /Done: Message on .*applied it before/.test(await page1.textContent('#toasts')));
    await until('an empty outbox', async () => (await page1.locator('#outbox-list li[data-state]').count()) === 0);
    await until('the message in page1, once', async () =>
      (await discussion(page1)).filter((m) => m === lostMessage).length === 1);
    check(onDisk() === 1, `after Retry the message is on disk ${onDisk()} times`);
  });

  await step('server errors are shown to the user', async () => {
    // An empty edit title is refused by the form; a bad parent by the server.
    await page1.getByRole('button', { name: 'Edit' }).click();
    const dlg = page1.locator('#item-dialog');
    await dlg.getByLabel('Parent').fill('WI-no-such-item');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await until('the server\'s error in the form', async () => (await page1.textContent('#item-form-error')).trim().length > 0);
    await page1.keyboard.press('Escape');
    check(htracJson('show', newId).parent === null, 'the bad parent was written');
  });

  await step('the priority trend chart, as `htrac priority-trend` reports it', async () => {
    await page1.getByRole('link', { name: 'Trend' }).click();
    await page1.locator('#trend-pane').waitFor({ state: 'visible', timeout: WAIT_MS });
    const img = await until('the chart image to load', () => page1.evaluate(() => {
      const i = document.getElementById('trend-img');
      return i.complete && i.naturalWidth > 0 ? { w: i.naturalWidth, src: i.src } : null;
    }));
    check(img.w > 100, `chart ${img.w} px wide`);
    const svgPath = path.join(tmp, 'trend.svg');
    const cli = htracJson('priority-trend', '--out', svgPath);
    const last = cli.points[cli.points.length - 1];
    const summary = await until('the trend summary', async () => {
      const t = (await page1.textContent('#trend-summary')).trim();
      return t.includes('day(s)') ? t : null;
    });
    check(summary.startsWith(`${cli.points.length} day(s)`) && summary.includes(`${last.open} open`),
      `summary "${summary}" vs htrac priority-trend ${JSON.stringify(last)} over ${cli.points.length} day(s)`);
    const svg = await page1.evaluate(async () => (await fetch('/api/priority-trend.svg')).text());
    check(svg.startsWith('<svg') || svg.startsWith('<?xml'), `not an SVG: ${svg.slice(0, 40)}`);
    check(svg === fs.readFileSync(svgPath, 'utf8'), 'the page\'s chart differs from the one htrac priority-trend draws');
    await page1.getByRole('link', { name: 'Ready' }).click();
    await page1.locator('#list-pane').waitFor({ state: 'visible', timeout: WAIT_MS });
  });

  await step('phone width: no sideways scrolling, one pane at a time', async () => {
    await page2.setViewportSize({ width: 360, height: 740 });
    // page2 shows an item: the click changes the hash at once, the panes
    // switch when the page handles it. Wait for that, not for the list
    // (whose titles are already there).
    await page2.getByRole('link', { name: 'Ready' }).click();
    await until('the ready route applied', () => page2.evaluate(() => document.body.dataset.route === 'ready'));
    await until('the list at phone width', async () => (await listTitles(page2)).length > 0);
    const wide = await page2.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 360, `the page is ${wide} px wide at a 360 px viewport`);
    check(await page2.locator('#detail-pane').isHidden(), 'the item pane shows next to the list on a phone');
    await openItem(page2, 'Write the README');
    check(await page2.locator('#list-pane').isHidden(), 'the list shows next to the item on a phone');
    const wide2 = await page2.evaluate(() => document.documentElement.scrollWidth);
    check(wide2 <= 360, `the item page is ${wide2} px wide at a 360 px viewport`);
    await page2.getByRole('button', { name: /Back to the list/ }).click();
    await page2.locator('#list-pane').waitFor({ state: 'visible', timeout: WAIT_MS });
  });

  await step('log out: the sign-in page shows and the API says 401', async () => {
    await page1.getByRole('button', { name: 'Log out' }).click();
    await page1.getByLabel('User name').waitFor({ state: 'visible', timeout: WAIT_MS });
    const inPage = await page1.evaluate(async () => (await fetch('/api/auth/me')).status);
    check(inPage === 401, `/api/auth/me from the logged-out page answered ${inPage}`);
    const viaCtx = await ctx1.request.get(`${base}/api/auth/me`);
    check(viaCtx.status() === 401, `/api/auth/me with context 1's cookies answered ${viaCtx.status()}`);
    const other = await ctx2.request.get(`${base}/api/auth/me`);
    check(other.status() === 200, `the other browser's session ended too (${other.status()})`);
  });

  // A passkey, end to end: a human runs `htrac-serve register-key`, the
  // link opens on http://localhost (the relying party; browsers refuse IP
  // addresses), Chromium's DevTools virtual authenticator stands in for
  // the fingerprint reader, and webauthn-rs on the server verifies it all.
  await step('a passkey: registered from a register-key link, then signs in (twice)', async () => {
    const who = 'kim';
    const link = JSON.parse(run(SERVE, ['register-key', '--user', who, '--json']));
    const localBase = `http://localhost:${port}`;
    check(link.url.startsWith(`${localBase}/#register=`), `register-key printed ${link.url}, not a link to ${localBase}`);
    const ctx3 = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page3 = watch('page3', await ctx3.newPage());
    const cdp = await page3.context().newCDPSession(page3);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    const signCount = async () => {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      check(credentials.length === 1, `the authenticator holds ${credentials.length} credentials`);
      return credentials[0].signCount;
    };
    const keys = () => JSON.parse(run(SERVE, ['keys', '--json']));

    await page3.goto(link.url);
    await page3.getByRole('heading', { name: 'Register a passkey' }).waitFor({ timeout: WAIT_MS });
    await page3.getByRole('button', { name: 'Create a passkey' }).click();
    await until('the registration to succeed', async () =>
      new RegExp(`Passkey registered for ${who}`).test(await page3.textContent('#register-status')));
    const stored = keys().filter((k) => k.user === who);
    check(stored.length === 1 && stored[0].algorithm === 'ES256', `htrac-serve keys: ${JSON.stringify(keys())}`);
    await signCount();

    const passkeySignIn = async (what) => {
      await page3.getByRole('button', { name: 'Sign in with a passkey' }).waitFor({ state: 'visible', timeout: WAIT_MS });
      await page3.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page3.locator('#app-view').waitFor({ state: 'visible', timeout: WAIT_MS });
      await until(`the user name after ${what}`, async () => (await page3.textContent('#user-name')).trim() === who);
      const me = await page3.evaluate(async () => (await fetch('/api/auth/me')).json());
      check(me.user === who, `${what}: /api/auth/me says ${JSON.stringify(me)}`);
    };
    await page3.getByRole('link', { name: 'Go to the sign-in page' }).click();
    await passkeySignIn('the first passkey sign-in');
    await page3.getByRole('button', { name: 'Log out' }).click();
    await page3.getByLabel('User name').waitFor({ state: 'visible', timeout: WAIT_MS });
    const out = await page3.evaluate(async () => (await fetch('/api/auth/me')).status);
    check(out === 401, `/api/auth/me after logging out answered ${out}`);
    await passkeySignIn('signing in again');
    // The server recorded the authenticator's signature counter.
    const count = await signCount();
    const key = keys().find((k) => k.user === who);
    check(count > 0 && key.sign_count === count && key.last_used_at,
      `the authenticator's counter is ${count}, htrac-serve keys says ${JSON.stringify(key)}`);
    await ctx3.close();
    pages.delete('page3');

    // The same page opened as 127.0.0.1 cannot use keys made for localhost:
    // it says where to go instead of failing with the browser's SecurityError.
    await page1.goto(base + '/');
    await page1.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await until('the wrong-site message', async () =>
      (await page1.textContent('#login-error')).includes(`open http://localhost:${port}/`));
    check(await page1.locator('#app-view').isHidden(), 'signed in on the wrong site?');
  });

  await step('no CSP violations or uncaught errors', async () => {
    check(problems.length === 0, problems.join('\n'));
  });
}

const deadline = setTimeout(() => {
  console.error(`not ok - ${currentStep}: the whole test took more than ${TOTAL_MS / 1000} s`);
  saveArtifacts(new Error('timeout')).finally(() => cleanup().finally(() => process.exit(1)));
}, TOTAL_MS);

try {
  await main();
  clearTimeout(deadline);
  await cleanup();
  log('all browser checks passed');
} catch (err) {
  clearTimeout(deadline);
  console.error(`not ok - ${currentStep}\n${err && err.stack ? err.stack : err}`);
  await saveArtifacts(err);
  await cleanup();
  process.exit(1);
}
