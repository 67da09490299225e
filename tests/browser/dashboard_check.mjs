#!/usr/bin/env node
// Headless-browser check of the monitoring dashboard (docs/dashboard.md), driven by
// playwright-core (pinned in tests/browser/package-lock.json) with Debian's /usr/bin/chromium.
//
//   node tests/browser/dashboard_check.mjs BASE_URL OPS_API_KEY EXPECTATIONS.json SCREENSHOT_DIR
//
// Steps: GET /dashboard without a session ends on /dashboard/login (303); a wrong key shows the
// login error; the right key opens the dashboard; for every view in the expectations
// (environment + range) the displayed texts are compared with the expected ones; the error
// banner and the 401 → login redirect are exercised with intercepted /dashboard/data answers;
// logout ends the session. No console error, CSP violation, page error or failed request is
// tolerated. Exit status 0 when everything matched, 1 with a readable diff otherwise, 2 on bad
// usage.
//
// Expectations file:
// {
//   "views": [
//     {"environment": "all", "range": "hour", "screenshot": "dashboard-all.png",
//      "metrics": {"otp_sent": "3", "otp_success_rate": "66.7%", ...},      // data-metric texts
//      "tables": {                                   // data-table name -> rows by data-key
//        "endpoints":   {"exact": false, "rows": {"/api_v1/create_lead": {"requests": "7"}}},
//        "error_types": {"exact": true,  "rows": {"/api_v1/create_lead|422|VALIDATION_ERROR": {"count": "2"}}},
//        "partners":    {"rows": {"basic_app|CreateFBBByBasicUser": {"calls": "5"}}},
//        "slos":        {"rows": {"OTP send/verify": {"total": "9", "met": "met"}}}
//      }}
//   ]
// }
// "exact": true also requires the rendered rows to be exactly the listed ones.

import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT_MS = 20000;

function usage(message) {
  if (message) console.error(`dashboard_check: ${message}`);
  console.error('usage: node dashboard_check.mjs BASE_URL OPS_API_KEY EXPECTATIONS.json SCREENSHOT_DIR');
  process.exit(2);
}

const [baseArg, apiKey, expectationsPath, outDir] = process.argv.slice(2);
if (!baseArg || !apiKey || !expectationsPath || !outDir) usage();
const base = baseArg.replace(/\/+$/, '');
let expectations;
try {
  expectations = JSON.parse(fs.readFileSync(expectationsPath, 'utf8'));
} catch (err) {
  usage(`cannot read ${expectationsPath}: ${err.message}`);
}
const views = Array.isArray(expectations.views) ? expectations.views : [];
if (views.length === 0) usage('the expectations name no view');
fs.mkdirSync(outDir, { recursive: true });

const failures = []; // human-readable lines
const problems = []; // console errors, CSP violations, failed requests
let tolerateHttpErrors = null; // predicate (url, status, method) while a deliberate error is on

function fail(line) {
  failures.push(line);
  console.error(`  FAIL ${line}`);
}

function step(text) {
  console.log(`- ${text}`);
}

const shots = [];
async function shot(page, name) {
  const file = path.join(outDir, name);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

function pathOf(url) {
  try {
    return new URL(url).pathname;
  } catch (_) {
    return url;
  }
}

// --------------------------------------------------------------------------- reading the page

async function snapshot(page) {
  return page.evaluate(() => {
    const text = (node) => (node.textContent || '').replace(/\s+/g, ' ').trim();
    const metrics = {};
    for (const node of document.querySelectorAll('[data-metric]')) {
      if (!(node.dataset.metric in metrics)) metrics[node.dataset.metric] = text(node);
    }
    const tables = {};
    for (const table of document.querySelectorAll('[data-table]')) {
      const rows = {};
      for (const row of table.querySelectorAll('[data-key]')) {
        const cells = {};
        for (const c of row.querySelectorAll('[data-field]')) cells[c.dataset.field] = text(c);
        rows[row.dataset.key] = cells;
      }
      tables[table.dataset.table] = rows;
    }
    return {
      metrics,
      tables,
      view: document.body.dataset.view || '',
      state: document.body.dataset.state || '',
      renderCount: Number(document.body.dataset.renderCount || 0),
      updated: text(document.getElementById('updated') || document.body),
      bannerVisible: !document.getElementById('error-banner').hidden,
      bannerText: text(document.getElementById('error-banner')),
      canvases: document.querySelectorAll('.chart canvas').length,
    };
  });
}

function compare(view, snap) {
  const diffs = [];
  for (const [key, want] of Object.entries(view.metrics || {})) {
    if (!(key in snap.metrics)) diffs.push(`metric ${key}: no element with data-metric="${key}"`);
    else if (snap.metrics[key] !== String(want)) {
      diffs.push(`metric ${key}: expected "${want}", shown "${snap.metrics[key]}"`);
    }
  }
  for (const [table, spec] of Object.entries(view.tables || {})) {
    const shown = snap.tables[table];
    if (!shown) {
      diffs.push(`table ${table}: no element with data-table="${table}"`);
      continue;
    }
    const rows = spec.rows || {};
    for (const [key, fields] of Object.entries(rows)) {
      if (!(key in shown)) {
        diffs.push(`table ${table}: row "${key}" missing (shown rows: ${Object.keys(shown).join(', ') || 'none'})`);
        continue;
      }
      for (const [field, want] of Object.entries(fields)) {
        const got = shown[key][field];
        if (got === undefined) diffs.push(`table ${table} row "${key}": no cell data-field="${field}"`);
        else if (got !== String(want)) {
          diffs.push(`table ${table} row "${key}" ${field}: expected "${want}", shown "${got}"`);
        }
      }
    }
    if (spec.exact) {
      for (const key of Object.keys(shown)) {
        if (!(key in rows)) diffs.push(`table ${table}: unexpected row "${key}" ${JSON.stringify(shown[key])}`);
      }
    }
    for (const key of spec.absent || []) {
      if (key in shown) diffs.push(`table ${table}: row "${key}" should not be shown`);
    }
  }
  return diffs;
}

async function waitForRender(page, viewName, afterCount) {
  await page.waitForFunction(
    ([name, count]) => document.body.dataset.view === name &&
      Number(document.body.dataset.renderCount || 0) > count && document.body.dataset.state === 'ok',
    [viewName, afterCount], { timeout: TIMEOUT_MS, polling: 100 });
}

async function renderCount(page) {
  return page.evaluate(() => Number(document.body.dataset.renderCount || 0));
}

// --------------------------------------------------------------------------- the run

async function run() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // CSP violations are reported as console errors too; the event catches the ones that are not.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} ` +
          `(${e.sourceFile || ''}:${e.lineNumber || ''})`);
      });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      const where = (msg.location() && msg.location().url) || '';
      // The browser's own favicon probe is not the page's doing (the service serves none).
      if (pathOf(where) === '/favicon.ico') return;
      // Chromium logs every 4xx/5xx answer as a console error; those are judged by status below.
      if (/^Failed to load resource: the server responded with a status of/.test(text) &&
          tolerateHttpErrors) return;
      problems.push(`console error: ${text}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => {
      const why = req.failure() ? req.failure().errorText : '';
      if (why === 'net::ERR_ABORTED' && pathOf(req.url()) === '/dashboard/data') return; // superseded fetch
      problems.push(`request failed: ${req.method()} ${req.url()} ${why}`);
    });
    page.on('response', (res) => {
      const status = res.status();
      if (status < 400) return;
      const req = res.request();
      if (tolerateHttpErrors && tolerateHttpErrors(res.url(), status, req.method())) return;
      problems.push(`HTTP ${status}: ${req.method()} ${res.url()}`);
    });

    // ---- no session: /dashboard sends the browser to the login form
    step('GET /dashboard without a session');
    const first = await page.goto(`${base}/dashboard`);
    if (pathOf(page.url()) !== '/dashboard/login') fail(`GET /dashboard ended on ${page.url()}, not /dashboard/login`);
    const redirect = first && first.request().redirectedFrom();
    const redirectStatus = redirect ? (await redirect.response())?.status() : undefined;
    if (redirectStatus !== 303) fail(`GET /dashboard answered ${redirectStatus ?? 'no redirect'}, expected 303`);
    const form = page.locator('form[method="post"][action="/dashboard/login"]');
    if (await form.count() !== 1) fail('the login page has no form method=post action=/dashboard/login');
    const keyInput = form.locator('input[name="api_key"][type="password"]');
    if (await keyInput.count() !== 1) fail('the login form has no password input named api_key');
    if ((await page.locator('#login-error').innerText()).trim() !== '') fail('the login page shows an error before any attempt');
    await shot(page, 'login.png');

    // ---- wrong key: back on the form with an error
    step('log in with a wrong key');
    tolerateHttpErrors = (url, status, method) => method === 'POST' && pathOf(url) === '/dashboard/login';
    await keyInput.fill('lg_wrong_' + Math.random().toString(36).slice(2));
    await Promise.all([page.waitForNavigation(), form.locator('[type="submit"]').click()]);
    tolerateHttpErrors = null;
    if (pathOf(page.url()) !== '/dashboard/login') fail(`a wrong key ended on ${page.url()}, not the login page`);
    const errorText = (await page.locator('#login-error').innerText().catch(() => '')).trim();
    if (!errorText) fail('a wrong key shows no error on the login page (<!--LOGIN_ERROR--> not replaced?)');
    else step(`  login error shown: "${errorText}"`);
    if (await page.locator('text=<!--LOGIN_ERROR-->').count()) fail('the LOGIN_ERROR marker is visible');
    await shot(page, 'login-error.png');

    // ---- right key: the dashboard renders
    step('log in with the ops key');
    await page.locator('input[name="api_key"]').fill(apiKey);
    await Promise.all([page.waitForNavigation(), page.locator('form[action="/dashboard/login"] [type="submit"]').click()]);
    if (pathOf(page.url()) !== '/dashboard') fail(`the ops key ended on ${page.url()}, not /dashboard`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'lg_ops');
    if (!session) fail('no lg_ops session cookie after login');
    else {
      if (!session.httpOnly) fail('the lg_ops cookie is not HttpOnly');
      if (session.sameSite !== 'Strict') fail(`the lg_ops cookie is SameSite=${session.sameSite}, not Strict`);
      if (session.value.includes(apiKey)) fail('the lg_ops cookie carries the API key');
    }
    await page.waitForFunction(() => document.body.dataset.state === 'ok', null, { timeout: TIMEOUT_MS });

    // ---- the views
    for (const view of views) {
      const env = view.environment || 'all';
      const range = view.range || 'hour';
      const name = `${env}|${range}`;
      step(`view environment=${env} range=${range}`);
      const current = await page.evaluate(() => document.body.dataset.view || '');
      if (current !== name) {
        const before = await renderCount(page);
        if ((await page.locator('#environment').inputValue()) !== env) await page.selectOption('#environment', env);
        if ((await page.locator('#range').inputValue()) !== range) await page.selectOption('#range', range);
        await waitForRender(page, name, before);
      }
      // The numbers come from flushed metrics: allow a few refreshes before calling a difference.
      let diffs = [];
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        const snap = await snapshot(page);
        diffs = compare(view, snap);
        if (!/^updated \d\d:\d\d:\d\d$/.test(snap.updated)) diffs.push(`"updated HH:MM:SS" not shown: "${snap.updated}"`);
        if (snap.bannerVisible) diffs.push(`error banner shown: ${snap.bannerText}`);
        if (snap.canvases < 10) diffs.push(`only ${snap.canvases} chart canvases rendered (uPlot missing?)`);
        if (diffs.length === 0) break;
        if (attempt < 4) {
          step(`  ${diffs.length} difference(s), refreshing (attempt ${attempt})`);
          const before = await renderCount(page);
          await page.waitForTimeout(1000);
          await page.click('#refresh');
          await waitForRender(page, name, before);
        }
      }
      for (const d of diffs) fail(`[${name}] ${d}`);
      if (!diffs.length) {
        const n = Object.keys(view.metrics || {}).length +
          Object.values(view.tables || {}).reduce((s, t) => s + Object.values(t.rows || {})
            .reduce((a, r) => a + Object.keys(r).length, 0), 0);
        step(`  ${n} expected value(s) match`);
      }
      if (view.screenshot) await shot(page, view.screenshot);
      const url = new URL(page.url());
      if ((url.searchParams.get('environment') || 'all') !== env) fail(`[${name}] the URL does not carry environment=${env}: ${page.url()}`);
    }

    // ---- a failing fetch shows the banner; the next good one hides it
    step('a failing /dashboard/data shows the error banner');
    const viewName = await page.evaluate(() => document.body.dataset.view);
    tolerateHttpErrors = (url) => pathOf(url) === '/dashboard/data';
    await page.route('**/dashboard/data*', (route) => route.fulfill({
      status: 500, contentType: 'application/problem+json',
      body: JSON.stringify({ title: 'Simulated failure', status: 500, detail: 'by dashboard_check' }),
    }));
    await page.click('#refresh');
    await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: TIMEOUT_MS });
    const banner = await snapshot(page);
    if (!banner.bannerVisible || !/500/.test(banner.bannerText)) fail(`no error banner naming the 500: "${banner.bannerText}"`);
    await shot(page, 'dashboard-error-banner.png');
    await page.unroute('**/dashboard/data*');
    const beforeRecovery = await renderCount(page);
    await page.click('#refresh');
    await waitForRender(page, viewName, beforeRecovery);
    if ((await snapshot(page)).bannerVisible) fail('the error banner stays after a successful refresh');

    // ---- a 401 (session expired or revoked) goes back to the login form
    step('a 401 from /dashboard/data goes to the login page');
    await page.route('**/dashboard/data*', (route) => route.fulfill({
      status: 401, contentType: 'application/problem+json',
      body: JSON.stringify({ title: 'Unauthorized', status: 401 }),
    }));
    await Promise.all([page.waitForURL('**/dashboard/login'), page.click('#refresh')]);
    await page.unroute('**/dashboard/data*');
    tolerateHttpErrors = null;
    await page.goto(`${base}/dashboard`);
    if (pathOf(page.url()) !== '/dashboard') fail(`the session should still be valid, ended on ${page.url()}`);
    await page.waitForFunction(() => document.body.dataset.state === 'ok', null, { timeout: TIMEOUT_MS });

    // ---- logout ends the session
    step('log out');
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    if (pathOf(page.url()) !== '/dashboard/login') fail(`logout ended on ${page.url()}, not /dashboard/login`);
    await page.goto(`${base}/dashboard`);
    if (pathOf(page.url()) !== '/dashboard/login') fail(`after logout GET /dashboard ended on ${page.url()}`);
    await context.close();
  } finally {
    await browser.close();
  }
}

try {
  await run();
} catch (err) {
  fail(`unexpected: ${err && err.stack ? err.stack : err}`);
}
for (const p of problems) fail(p);
console.log(`screenshots: ${shots.join(' ')}`);
if (failures.length) {
  console.error(`\ndashboard_check: ${failures.length} problem(s):`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log('dashboard_check: OK');
