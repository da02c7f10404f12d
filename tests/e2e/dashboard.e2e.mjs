#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// End-to-end test of the dashboard against a running storeagentd and its
// control plane, in Debian's chromium driven by playwright-core (from
// web/node_modules: run `npm ci` in web/ first).
//
//   STOREAGENT_URL     dashboard base URL, e.g. http://127.0.0.1:18080 (required)
//   STOREAGENT_TOKEN   API token to sign in with (required)
//   E2E_TIMEOUT        seconds to wait for READY and for the deletion (default 180)
//   ARTIFACTS_DIR      where screenshots go (default tests/artifacts/e2e)
//   CHROMIUM           browser binary (default /usr/bin/chromium)
//   E2E_STORE_NAME     name of the store to create (default e2e-<random>)
//   E2E_REQUIRE_STREAM 0 to accept polling instead of the live event stream (default 1)
//   STOREAGENT_TENANT_NAME, STOREAGENT_TENANT_TOKEN   a tenant account and its token (tests/e2e/run
//   STOREAGENT_OTHER_NAME, STOREAGENT_OTHER_TOKEN     makes two); without them the tenant steps are skipped
//   SCREENSHOTS_DIR    also save the Accounts page, the store admin card, the logs, the backups panel and the
//                      Domains card (desktop and phone) there (docs/screenshots)
//   KUBECTL, KUBECONFIG  the control plane (tests/e2e/run sets them): the logs step maps the store's
//                      container logs to a file here (kwok ClusterLogs), the backups step their execs to
//                      commands here (kwok ClusterExec); without them both are skipped
//
// Exits 0 when every step passed, 1 when one failed, 2 on bad usage. The last
// line reads "e2e: N passed, N failed, N skipped".

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const BASE = (process.env.STOREAGENT_URL || '').replace(/\/+$/, '');
const TOKEN = process.env.STOREAGENT_TOKEN || '';
const TIMEOUT_S = Number(process.env.E2E_TIMEOUT || 180);
const ARTIFACTS = path.resolve(process.env.ARTIFACTS_DIR || path.join(repo, 'tests', 'artifacts', 'e2e'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REQUIRE_STREAM = process.env.E2E_REQUIRE_STREAM !== '0';
const NAME =
    process.env.E2E_STORE_NAME || `e2e-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const TENANT = { name: process.env.STOREAGENT_TENANT_NAME || '', token: process.env.STOREAGENT_TENANT_TOKEN || '' };
const OTHER = { name: process.env.STOREAGENT_OTHER_NAME || '', token: process.env.STOREAGENT_OTHER_TOKEN || '' };
const TENANTS = !!(TENANT.name && TENANT.token && OTHER.name && OTHER.token);
const TNAME = `${NAME}-t`;
const SHOP_TITLE = 'E2E Corner Shop';
const SCREENSHOTS = process.env.SCREENSHOTS_DIR ? path.resolve(process.env.SCREENSHOTS_DIR) : null;

if (!BASE || !TOKEN || !(TIMEOUT_S > 0)) {
    console.error(
        'usage: STOREAGENT_URL=http://127.0.0.1:18080 STOREAGENT_TOKEN=sa_... node tests/e2e/dashboard.e2e.mjs',
    );
    console.error('       (E2E_TIMEOUT seconds, ARTIFACTS_DIR, CHROMIUM are optional)');
    process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
    console.error(`e2e: no browser at ${CHROMIUM}; install Debian's chromium (apt-get install -y chromium)`);
    process.exit(2);
}

let chromium;
let axeSource;
try {
    const webRequire = createRequire(path.join(repo, 'web', 'package.json'));
    ({ chromium } = webRequire('playwright-core'));
    axeSource = fs.readFileSync(webRequire.resolve('axe-core/axe.min.js'), 'utf8');
} catch (err) {
    console.error(
        `e2e: cannot load playwright-core and axe-core from web/node_modules (run "npm ci" in web/): ${err.message}`,
    );
    process.exit(2);
}

const TIMEOUT_MS = TIMEOUT_S * 1000;
const UI_MS = 15000; // for things the page should show at once
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

// Whatever hangs (the browser, the daemon), the run ends with a clear message.
const OVERALL_S = 2 * TIMEOUT_S + 180;
setTimeout(() => {
    console.error(`\ne2e: gave up after ${OVERALL_S} s overall`);
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
}, OVERALL_S * 1000).unref();

fs.mkdirSync(ARTIFACTS, { recursive: true });
const profiles = [];
const contexts = [];
const pageErrors = [];

// One browser context per account, each with its own profile (cookies), side by side.
async function openBrowser(label) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'storeagent-e2e-chromium-'));
    profiles.push(profile);
    const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
        viewport: { width: 1280, height: 900 },
    });
    contexts.push(ctx);
    ctx.setDefaultTimeout(UI_MS);
    const p = ctx.pages()[0] ?? (await ctx.newPage());
    p.on('pageerror', (err) => pageErrors.push(`${label}: ${err.message}`));
    p.on('console', (msg) => {
        if (msg.type() === 'error' && !/status of (4\d\d)/.test(msg.text()))
            log(`browser console (${label}): ${msg.text()}`);
    });
    return p;
}

const page = await openBrowser('admin').catch((err) => {
    console.error(`e2e: could not start ${CHROMIUM}: ${err.message}`);
    console.log('e2e: 0 passed, 1 failed');
    for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
    process.exit(1);
});

const row = () => page.getByTestId(`store-row-${NAME}`);
const badge = () => page.getByTestId(`status-${NAME}`);
const shot = async (file, opts = {}) => {
    const p = path.join(ARTIFACTS, file);
    await page.screenshot({ path: p, fullPage: true, ...opts });
    log(`screenshot ${path.relative(repo, p)}`);
};

// Accessibility findings from axe-core in the real browser (contrast included),
// collected along the way and judged in a step of their own at the end.
const a11y = [];
async function axeCheck(screenName, on = page) {
    // Evaluated through the devtools protocol, so the daemon's Content-Security-Policy
    // (which should forbid inline scripts) does not stop it and stays in force for the app.
    await on.evaluate(axeSource);
    const violations = await on.evaluate(async () => {
        const r = await window.axe.run(document);
        return r.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ')),
        }));
    });
    for (const v of violations) {
        log(`  axe (${screenName}): ${v.impact} ${v.id}: ${v.help} [${v.nodes.slice(0, 3).join(', ')}]`);
        if (v.impact === 'serious' || v.impact === 'critical') a11y.push({ screen: screenName, ...v });
    }
}

let storeId = null;
let tenantStoreId = null;
let tenantPage = null;
let otherPage = null;
const results = [];
let failed = false;

async function step(title, fn) {
    if (failed) {
        results.push({ title, state: 'skipped' });
        return;
    }
    const t0 = Date.now();
    log(`- ${title}`);
    try {
        await fn();
        if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.join(' | ')}`);
        results.push({ title, state: 'passed' });
        log(`  ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
        failed = true;
        results.push({ title, state: 'failed', err });
        log(`  FAILED: ${err.message.split('\n')[0]}`);
    }
}

function fail(message) {
    throw new Error(message);
}

function skipStep(title) {
    results.push({ title, state: 'skipped' });
    log(`- ${title}: skipped (no KUBECTL / KUBECONFIG)`);
    return Promise.resolve();
}

function tenantStep(title, fn) {
    if (!TENANTS) {
        results.push({ title, state: 'skipped' });
        log(`- ${title}: skipped (no STOREAGENT_TENANT_* / STOREAGENT_OTHER_*)`);
        return Promise.resolve();
    }
    return step(title, fn);
}

async function signIn(p, token, who) {
    await p.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
    await p.getByLabel('API token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await Promise.race([
        p.getByTestId('create-form').waitFor(),
        p
            .getByTestId('signin-error')
            .waitFor()
            .then(async () => fail(`${who}: sign-in refused: ${await p.getByTestId('signin-error').innerText()}`)),
    ]);
    await p.getByTestId('store-count').filter({ hasNotText: 'Loading' }).waitFor();
}

const navLink = (p, name) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function navNames(p) {
    return p.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
}

async function saveShot(locator, file) {
    const p = path.join(ARTIFACTS, file);
    await locator.screenshot({ path: p });
    log(`screenshot ${path.relative(repo, p)}`);
    if (SCREENSHOTS) {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        fs.copyFileSync(p, path.join(SCREENSHOTS, file));
    }
}

// A phone-sized screenshot of the viewport, kept in docs/screenshots too when SCREENSHOTS_DIR is set.
async function phoneShot(file) {
    const p = path.join(ARTIFACTS, file);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: p, fullPage: false });
    log(`screenshot ${path.relative(repo, p)}`);
    if (SCREENSHOTS) {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        fs.copyFileSync(p, path.join(SCREENSHOTS, file));
    }
}

async function waitReady(p, name) {
    try {
        await p.waitForFunction(
            (n) => {
                const s = document.querySelector(`[data-testid="status-${n}"]`)?.getAttribute('data-status');
                return s === 'READY' || s === 'FAILED';
            },
            name,
            { timeout: TIMEOUT_MS, polling: 250 },
        );
    } catch {
        fail(`store ${name} did not become READY within ${TIMEOUT_S} s`);
    }
    const s = await p.getByTestId(`status-${name}`).first().getAttribute('data-status');
    if (s !== 'READY') fail(`store ${name} is ${s}, not READY`);
}

// --- the scenario ---------------------------------------------------------

await step('sign in with the API token', async () => {
    // A cold load shows the form without a session probe, so the console logs no 401.
    const unauthorized = [];
    const on401 = (r) => r.status() === 401 && unauthorized.push(`${r.request().method()} ${r.url()}`);
    page.on('response', on401);
    await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
    const token = page.getByLabel('API token');
    await token.waitFor();
    await page.waitForLoadState('networkidle');
    page.off('response', on401);
    if (unauthorized.length) fail(`the cold load got 401 for ${unauthorized.join(', ')}`);
    await axeCheck('sign-in');
    await token.fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await Promise.race([
        page.getByTestId('create-form').waitFor(),
        page
            .getByTestId('signin-error')
            .waitFor()
            .then(async () => fail(`sign-in refused: ${await page.getByTestId('signin-error').innerText()}`)),
    ]);
    await page.getByTestId('store-count').filter({ hasNotText: 'Loading' }).waitFor();
    // Focus goes to the page's heading, not back to the body.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: UI_MS });
    // The skip link, when focused, covers nothing (it used to sit on the logo).
    const skip = page.getByTestId('skip-link');
    await skip.focus();
    const [sb, lb] = [await skip.boundingBox(), await page.getByTestId('home-logo').boundingBox()];
    if (!sb || !lb || sb.y + sb.height > lb.y + 0.5)
        fail(`the focused skip link (${JSON.stringify(sb)}) overlaps the logo (${JSON.stringify(lb)})`);
    await skip.evaluate((el) => el.blur());
    // Marks this document: if anything reloads the page, the marker is gone.
    await page.evaluate(() => {
        window.__e2eDocument = true;
    });
});

await step('the live event stream connects', async () => {
    const state = page.getByTestId('connection-state');
    try {
        await page.waitForFunction(
            () => document.querySelector('[data-testid="connection-state"]')?.getAttribute('data-mode') === 'live',
            null,
            { timeout: UI_MS, polling: 200 },
        );
    } catch {
        const mode = await state.getAttribute('data-mode').catch(() => 'unknown');
        const msg = `GET /api/v1/stream did not open within ${UI_MS / 1000} s (dashboard mode: ${mode})`;
        if (REQUIRE_STREAM) fail(msg);
        log(`  warning: ${msg}; going on with polling`);
    }
});

await step('a name the API would refuse is caught by the form', async () => {
    await page.getByTestId('create-name').fill('Not_Valid');
    await page.getByTestId('create-submit').click();
    const err = page.getByTestId('create-name-error');
    await err.waitFor();
    log(`  form says: ${await err.innerText()}`);
    await page.getByTestId('create-name').fill('');
});

await step(`create store "${NAME}"`, async () => {
    // Record every status the row shows, as it happens, without reloading.
    await page.evaluate((name) => {
        window.__e2eStatuses = [];
        window.__e2eSteps = [];
        const seen = () => {
            const b = document.querySelector(`[data-testid="store-row-${name}"] [data-testid="status-${name}"]`);
            const s = b?.getAttribute('data-status');
            if (s && window.__e2eStatuses.at(-1) !== s) window.__e2eStatuses.push(s);
            const bar = document.querySelector(`[data-testid="store-row-${name}"] [role="progressbar"]`);
            const t = bar?.getAttribute('aria-valuetext');
            if (t && window.__e2eSteps.at(-1) !== t) window.__e2eSteps.push(t);
        };
        new MutationObserver(seen).observe(document.body, {
            subtree: true,
            childList: true,
            attributes: true,
            characterData: true,
        });
        seen();
    }, NAME);

    await page.getByTestId('create-name').fill(NAME);
    // A shop title given at create, under the collapsed settings.
    await page.getByText('Shop settings (optional)').click();
    await page.getByTestId('create-settings-title').fill(SHOP_TITLE);
    const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/stores') && r.request().method() === 'POST'),
        page.getByTestId('create-submit').click(),
    ]);
    const body = await res.json().catch(() => null);
    if (res.status() !== 202) fail(`POST /api/v1/stores answered ${res.status()}: ${JSON.stringify(body)}`);
    const sent = res.request().postDataJSON();
    if (sent?.settings?.title !== SHOP_TITLE)
        fail(`the create request sent settings ${JSON.stringify(sent?.settings)}`);
    storeId = body?.id ?? null;
    log(`  accepted: id ${storeId}, status ${body?.status}`);
    await row().waitFor();
});

await step(`watch it go PROVISIONING -> READY without reloading (up to ${TIMEOUT_S} s)`, async () => {
    try {
        await page.waitForFunction(
            (name) => {
                const s = document.querySelector(`[data-testid="status-${name}"]`)?.getAttribute('data-status');
                return s === 'READY' || s === 'FAILED';
            },
            NAME,
            { timeout: TIMEOUT_MS, polling: 250 },
        );
    } catch {
        const now = await badge()
            .getAttribute('data-status')
            .catch(() => 'gone');
        fail(
            `the store did not become READY within ${TIMEOUT_S} s (still ${now}; raise E2E_TIMEOUT if the control plane is slow)`,
        );
    }
    const { statuses, steps, sameDocument } = await page.evaluate(() => ({
        statuses: window.__e2eStatuses,
        steps: window.__e2eSteps,
        sameDocument: window.__e2eDocument === true,
    }));
    log(`  statuses seen: ${statuses.join(' -> ')}`);
    if (steps.length) log(`  steps seen: ${steps.join(' | ')}`);
    if (!sameDocument) fail('the page was reloaded; the change should have arrived live');
    const final = statuses.at(-1);
    if (final === 'FAILED') {
        const reason = await row().innerText();
        fail(`the store FAILED instead of becoming READY: ${reason.replace(/\s+/g, ' ')}`);
    }
    if (statuses[0] !== 'PROVISIONING')
        fail(`expected the row to show PROVISIONING first, saw ${statuses.join(' -> ')}`);
    if (final !== 'READY') fail(`expected READY last, saw ${statuses.join(' -> ')}`);
    const url = page.getByTestId(`store-url-${NAME}`);
    await url.waitFor();
    log(`  store URL: ${await url.getAttribute('href')}`);
    await shot('stores-list.png');
    await axeCheck('stores list');
});

await step('the platform panel says how full the nodes are and what to do when full', async () => {
    const room = page.getByTestId('capacity');
    await room.waitFor();
    const summary = (await page.getByTestId('capacity-summary').innerText()).trim();
    log(`  room: ${summary}`);
    if (!/^\d+ more stores? fits?\.$|^Full: a new store does not fit\.$/.test(summary))
        fail(`the panel's room for stores says "${summary}"`);
    const memory = (await page.getByTestId('capacity-memory').innerText()).replace(/\s+/g, ' ');
    if (!/Memory free ?: ?[\d.]+(Ki|Mi|Gi|Ti)? of [\d.]+(Ki|Mi|Gi|Ti)?/.test(memory))
        fail(`the panel's free memory says "${memory}"`);
    // The admin sees each node the agent counts, as the API lists them.
    const r = await page.evaluate(async (token) => {
        const res = await fetch('/api/v1/platform', { headers: { Authorization: `Bearer ${token}` } });
        return (await res.json()).capacity;
    }, TOKEN);
    for (const n of r.nodes) await page.getByTestId(`capacity-node-${n.name}`).waitFor();
    if (!r.fits) {
        const advice = await page.getByTestId('capacity-advice').innerText();
        if (!advice.includes('Add a node')) fail(`the full platform's advice says "${advice}"`);
    }
    await saveShot(page.getByTestId('platform-panel'), 'platform-room.png');
    await axeCheck('platform panel with room for stores');
});

await step('the platform page charts stores by status, provisioning times and the room left', async () => {
    await navLink(page, 'Platform').click();
    const pageEl = page.getByTestId('platform-page');
    await pageEl.waitFor();
    // The store made above is READY now, and it was not a day ago: the READY line ends above zero.
    const ready = page.getByTestId('status-READY');
    await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="status-READY"]')?.dataset.latest || 0) >= 1,
    );
    log(`  ${(await page.getByTestId('status-READY-summary').innerText()).trim()}`);
    if (!(await ready.locator('polyline').count())) fail('the READY chart draws no line');
    // Its create is one of the bars, with the p50 and p95 the API computed.
    const summary = (await page.getByTestId('provision-summary').innerText()).replace(/\s+/g, ' ');
    log(`  ${summary}`);
    const stats = await page.evaluate(async (token) => {
        const res = await fetch('/api/v1/platform/stats?creates=20', { headers: { Authorization: `Bearer ${token}` } });
        return res.json();
    }, TOKEN);
    const mine = stats.provisioning.creates.find((c) => c.name === NAME);
    if (!mine || !(mine.seconds > 0)) fail(`the API has no provisioning time for ${NAME}: ${JSON.stringify(stats)}`);
    const bars = await page.getByTestId('provision-bar').count();
    if (bars !== stats.provisioning.creates.length)
        fail(`${bars} bars for ${stats.provisioning.creates.length} creates`);
    if (!(await page.getByTestId('provision-p50').count()) || !(await page.getByTestId('provision-p95').count()))
        fail('the p50 and p95 lines are missing');
    if (!summary.includes('(p50)') || !summary.includes('(p95)')) fail(`the summary says "${summary}"`);
    // The room left: the nodes' memory less what the store reserves, as the API says.
    const memory = page.getByTestId('room-memory');
    await memory.waitFor();
    const free = Number(await memory.getAttribute('data-free'));
    if (!stats.capacity.known || free !== stats.capacity.free.memory || !(stats.capacity.reserved_by_stores.memory > 0))
        fail(`room left: page ${free}, API ${JSON.stringify(stats.capacity)}`);
    log(`  ${(await memory.innerText()).replace(/\s+/g, ' ')}`);
    await axeCheck('platform page');
    await saveShot(pageEl, 'platform-page.png');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    await phoneShot('platform-page-phone.png');
    await axeCheck('platform page at phone size');
    await page.setViewportSize({ width: 1280, height: 900 });
    if (overflow > 0) fail(`at 390 px the platform page overflows by ${overflow} px`);
    await navLink(page, 'Stores').click();
    await page.getByTestId('create-form').waitFor();
});

await step('a duplicate name is refused with the API message', async () => {
    await page.getByTestId('create-name').fill(NAME);
    const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/stores') && r.request().method() === 'POST'),
        page.getByTestId('create-submit').click(),
    ]);
    const body = await res.json().catch(() => null);
    if (res.ok()) fail(`a second store named ${NAME} was accepted (${res.status()})`);
    const message = body?.error?.message;
    if (!message) fail(`the refusal (${res.status()}) carried no error.message: ${JSON.stringify(body)}`);
    log(`  API answered ${res.status()} ${body.error.code}: ${message}`);
    const shown = page.getByTestId('create-error-message');
    await shown.waitFor();
    const text = (await shown.innerText()).trim();
    if (text !== message.trim()) fail(`the form shows "${text}", the API said "${message}"`);
    const card = page.locator('section', {
        has: page.getByTestId('create-form'),
    });
    await card.screenshot({
        path: path.join(ARTIFACTS, 'create-form-error.png'),
    });
    log(`screenshot ${path.relative(repo, path.join(ARTIFACTS, 'create-form-error.png'))}`);
    await shot('create-form-error-page.png', { fullPage: false });
    await page.getByTestId('create-name').fill('');
});

await step('open the store detail with its timeline and Helm history', async () => {
    await page.getByTestId(`store-link-${NAME}`).click();
    const detail = page.getByTestId('store-detail');
    await detail.waitFor();
    if (!page.url().includes('/stores/')) fail(`expected a /stores/<id> URL, got ${page.url()}`);
    if ((await badge().getAttribute('data-status')) !== 'READY') fail('the detail page does not show READY');
    const items = page.getByTestId('timeline').getByTestId('timeline-item');
    await items.first().waitFor();
    const actions = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    log(`  timeline: ${actions.join(', ')}`);
    if (!actions.some((a) => a === 'store.create')) fail('the timeline has no store.create event');
    const releases = page.getByTestId('releases');
    await releases.waitFor();
    const revisions = await releases.locator('tbody tr').count();
    log(`  Helm history: ${revisions} revision(s)`);
    if (revisions < 1) fail('the Helm history is empty for a READY store');
    // Reloading a client route must work (the daemon's SPA fallback).
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.getByTestId('store-detail').waitFor();
    await page.getByTestId('timeline-item').first().waitFor();
    await page.getByTestId('releases').locator('tbody tr').first().waitFor();
    await shot('store-detail.png');
    await axeCheck('store detail');
    // The title given at create is the store's setting.
    await page.waitForFunction(
        (t) => document.querySelector('[data-testid="settings-title"]')?.value === t,
        SHOP_TITLE,
        { timeout: UI_MS },
    );
    // Timeline: newest first, each time with its date on one line, the top line whole.
    const stamps = await page.getByTestId('timeline-time').evaluateAll((els) =>
        els.map((e) => ({
            text: e.textContent,
            lines: (() => {
                const r = document.createRange();
                r.selectNodeContents(e);
                return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size;
            })(),
        })),
    );
    const bad = stamps.filter((t) => t.lines > 1 || !/[A-Za-z]{3}/.test(t.text) || !/\d{1,2}:\d{2}/.test(t.text));
    if (bad.length) fail(`timeline times not one line with a date: ${JSON.stringify(bad.slice(0, 3))}`);
    const clipped = await page.getByRole('region', { name: 'Event timeline' }).evaluate((box) => {
        const first = box.querySelector('[data-testid="timeline-item"]');
        return first.getBoundingClientRect().top < box.getBoundingClientRect().top;
    });
    if (clipped) fail('the top entry of the timeline is clipped');
    // The history says it scrolls exactly when its table is wider than its box.
    const wider = await page.getByTestId('releases-scroll').evaluate((el) => el.scrollWidth > el.clientWidth);
    if (wider !== (await page.getByTestId('releases-scroll-hint').count()) > 0)
        fail(`at 1280 px the table is ${wider ? 'wider than' : 'within'} its box, the scroll hint says otherwise`);
});

await step(
    'on a phone (320 and 390 px) the header keeps "Live", actions come first, the history says it scrolls',
    async () => {
        try {
            for (const width of [320, 390]) {
                await page.setViewportSize({ width, height: 844 });
                const live = await page.getByTestId('connection-text').evaluate((el) => ({
                    text: el.textContent,
                    cut: el.scrollWidth > el.clientWidth,
                }));
                if (live.cut) fail(`at ${width} px the connection state "${live.text}" is cut`);
                const top = async (loc) => (await loc.boundingBox())?.y ?? Infinity;
                const actionsY = await top(page.getByTestId('actions'));
                const timelineY = await top(page.getByRole('region', { name: 'Event timeline' }));
                if (!(actionsY < timelineY))
                    fail(`at ${width} px the actions (y ${actionsY}) are below the timeline (y ${timelineY})`);
                const table = await page
                    .getByTestId('releases-scroll')
                    .evaluate((el) => ({ wider: el.scrollWidth > el.clientWidth }));
                if (table.wider) await page.getByTestId('releases-scroll-hint').waitFor();
                else fail(`at ${width} px the history table fits; expected it to scroll`);
                const overflow = await page.evaluate(
                    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
                );
                if (overflow > 0) fail(`at ${width} px the store page overflows by ${overflow} px`);
            }
            await phoneShot('store-detail-phone.png');
            await axeCheck('store detail at 390 px');
            await navLink(page, 'Stores').click();
            await row().waitFor();
            if (await page.getByTestId(`store-detail-line-${NAME}`).count())
                fail('the READY row keeps an empty line under it at 390 px');
            await phoneShot('stores-list-phone.png');
            await axeCheck('stores list at 390 px');
            await page.getByTestId(`store-link-${NAME}`).click();
            await page.getByTestId('store-detail').waitFor();
        } finally {
            await page.setViewportSize({ width: 1280, height: 900 });
        }
    },
);

// --- logs: kwok plays the kubelet and its pods run nothing, so nothing writes a log. The stand-in:
// kwok's ClusterLogs maps the store's containers to a file on this host (pods/log reads and follows
// it); the step writes the lines a container would have written, in the kubelet's CRI log format.

const KUBE = process.env.KUBECTL && process.env.KUBECONFIG;
const kubectl = (args, input) =>
    execFileSync(process.env.KUBECTL, ['--kubeconfig', process.env.KUBECONFIG, ...args], {
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 60000,
    });
const criLine = (text) => `${new Date().toISOString().replace('Z', '000Z')} stdout F ${text}\n`;

await (KUBE ? step : skipStep)('the store page shows its log and lines that arrive while following it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storeagent-e2e-log-'));
    const file = path.join(dir, 'container.log');
    const standin = `e2e-standin-${NAME}`;
    fs.writeFileSync(file, criLine('booting WordPress') + criLine('ready to serve'));
    kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
            apiVersion: 'kwok.x-k8s.io/v1alpha1',
            kind: 'ClusterLogs',
            metadata: { name: standin },
            spec: { selector: { matchNamespaces: [`store-${NAME}`] }, logs: [{ logsFile: file, follow: true }] },
        }),
    );
    try {
        const panel = page.getByTestId('logs');
        await panel.waitFor();
        const picked = await panel
            .getByTestId('logs-container')
            .evaluate((el) => el.selectedOptions[0]?.parentElement?.label);
        log(`  container picker: ${picked}`);
        if (!/^web: /.test(picked ?? '')) fail(`the picker starts on "${picked}", not the web pod`);
        const text = panel.getByTestId('logs-text');
        // Follow (kwok may take a moment to see the mapping: a log read before it ends with a note).
        await panel.getByTestId('logs-follow').check();
        await panel.getByTestId('logs-following').waitFor();
        const deadline = Date.now() + 30000;
        while (!/ready to serve/.test(await text.innerText())) {
            if (Date.now() > deadline) fail(`the log reads "${await text.innerText()}"`);
            if (!(await panel.getByTestId('logs-following').count())) {
                await panel.getByTestId('logs-follow').uncheck();
                await panel.getByTestId('logs-follow').check();
            }
            await page.waitForTimeout(250);
        }
        fs.appendFileSync(file, criLine('order #1001 placed'));
        await text.filter({ hasText: 'order #1001 placed' }).waitFor({ timeout: UI_MS });
        log(`  followed: ${(await text.innerText()).split('\n').join(' | ')}`);
        const href = await panel.getByTestId('logs-download').getAttribute('href');
        const res = await page.request.get(new URL(href, BASE).toString());
        const whole = await res.text();
        if (!res.ok() || !/booting WordPress\nready to serve\norder #1001 placed/.test(whole))
            fail(`the download answered ${res.status()}: ${whole.slice(0, 200)}`);
        await axeCheck('store page with its logs');
        await saveShot(panel, 'store-logs.png');
        await panel.getByTestId('logs-follow').uncheck();
    } finally {
        kubectl(['delete', 'clusterlogs', standin, '--ignore-not-found']);
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

// --- resource use: kwok's pods run nothing, so they use no CPU or memory. The stand-in: kwok's
// simulated usage (a ClusterResourceUsage for the store's namespace), which kwok's fake kubelet serves
// as resource metrics to metrics-server (tests/e2e/run starts it); the agent samples it every 2 s.

await (KUBE ? step : skipStep)("the store page charts the store's CPU and memory against its quota", async () => {
    const standin = `e2e-usage-${NAME}`;
    kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
            apiVersion: 'kwok.x-k8s.io/v1alpha1',
            kind: 'ClusterResourceUsage',
            metadata: { name: standin },
            spec: {
                selector: { matchNamespaces: [`store-${NAME}`] },
                usages: [{ usage: { cpu: { value: '150m' }, memory: { value: '200Mi' } } }],
            },
        }),
    );
    try {
        const panel = page.getByTestId('usage');
        await panel.waitFor();
        const cpu = panel.getByTestId('usage-cpu');
        const deadline = Date.now() + 120000;
        // The panel reads again every 5 s at a 2 s sampling interval.
        while (!(Number((await cpu.count()) ? await cpu.getAttribute('data-latest') : 0) >= 150)) {
            if (Date.now() > deadline) fail(`no simulated CPU use on the chart: "${await panel.innerText()}"`);
            await page.waitForTimeout(500);
        }
        const memory = Number(await panel.getByTestId('usage-memory').getAttribute('data-latest'));
        if (memory < 200 * 2 ** 20) fail(`the memory chart's latest value is ${memory}`);
        const summary = await panel.getByTestId('usage-cpu-summary').innerText();
        log(`  CPU: ${summary}; memory: ${await panel.getByTestId('usage-memory-summary').innerText()}`);
        if (!/of 4 cores/.test(summary)) fail(`the CPU chart does not name the quota: "${summary}"`);
        await axeCheck('store page with its resource charts');
        await saveShot(panel, 'store-usage.png');
    } finally {
        kubectl(['delete', 'clusterresourceusage', standin, '--ignore-not-found']);
    }
});

// --- backups: kwok's pods run nothing, so an exec into them has nothing to run. Without a mapping a
// backup fails, and the panel says why. The stand-in after it: kwok's ClusterExec runs the store's
// execs on this host, in a directory of the step, with a mysqldump and a mysql of the step's own on
// PATH (the dump prints a fixed text; mysql keeps what it is fed, and ignores the restore's cache
// flush), and the real tar.

async function takeBackup(panel) {
    const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && /\/backups$/.test(new URL(r.url()).pathname)),
        panel.getByTestId('backup-now').click(),
    ]);
    if (res.status() !== 202) fail(`POST backups answered ${res.status()}: ${await res.text()}`);
    const b = await res.json();
    const row = panel.getByTestId(`backup-${b.id}`);
    await row.waitFor();
    await page.waitForFunction(
        (id) =>
            /^(succeeded|failed)$/.test(document.querySelector(`[data-testid="backup-${id}"]`)?.dataset.status ?? ''),
        b.id,
        { timeout: TIMEOUT_MS },
    );
    return { id: b.id, row };
}

await (KUBE ? step : skipStep)(
    'the Backups panel: a backup that fails says why; one that succeeds downloads, restores and deletes after the name is typed',
    async () => {
        const panel = page.getByTestId('backups');
        await panel.waitFor();
        await panel.getByTestId('backups-none').or(panel.getByTestId('backups-list')).waitFor();

        // No mapping: the exec into the database pod has nothing to run.
        const bad = await takeBackup(panel);
        if ((await bad.row.getAttribute('data-status')) !== 'failed') fail('a backup with nothing to run succeeded');
        const reason = (await bad.row.getByTestId('backup-reason').innerText()).trim();
        log(`  failed backup: ${reason}`);
        if (!/mysqldump in pod .* failed/.test(reason)) fail(`the failed backup's reason reads "${reason}"`);
        if (await bad.row.getByRole('link').count()) fail('a failed backup offers files to download');
        if (await bad.row.getByTestId('backup-restore').count()) fail('a failed backup offers a restore');
        await panel.getByTestId('backups-note').filter({ hasText: 'failed' }).waitFor();

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storeagent-e2e-backup-'));
        const bin = path.join(dir, 'bin');
        fs.mkdirSync(bin);
        fs.mkdirSync(path.join(dir, 'wp-content', 'uploads'), { recursive: true });
        const upload = path.join(dir, 'wp-content', 'uploads', 'logo.txt');
        fs.writeFileSync(upload, 'the logo of the shop\n');
        fs.writeFileSync(path.join(dir, 'password'), 'e2e\n');
        const dump = `-- stand-in dump of ${NAME}\nINSERT INTO wp_posts VALUES (1001);\n`;
        fs.writeFileSync(path.join(bin, 'mysqldump'), `#!/bin/sh\nprintf '%s' '${dump}'\n`, { mode: 0o755 });
        // Statements given with -e (the restore's cache flush) are not what it was fed.
        fs.writeFileSync(
            path.join(bin, 'mysql'),
            `#!/bin/sh\ncase " $* " in *" -e "*) exit 0 ;; esac\ncat > '${dir}/restored.sql'\n`,
            { mode: 0o755 },
        );
        const standin = `e2e-standin-backup-${NAME}`;
        kubectl(
            ['apply', '-f', '-'],
            JSON.stringify({
                apiVersion: 'kwok.x-k8s.io/v1alpha1',
                kind: 'ClusterExec',
                metadata: { name: standin },
                spec: {
                    selector: { matchNamespaces: [`store-${NAME}`] },
                    execs: [
                        {
                            local: {
                                workDir: dir,
                                envs: [
                                    { name: 'PATH', value: `${bin}:/usr/bin:/bin` },
                                    { name: 'MYSQL_ROOT_PASSWORD_FILE', value: path.join(dir, 'password') },
                                    { name: 'MYSQL_DATABASE', value: 'wordpress' },
                                ],
                            },
                        },
                    ],
                },
            }),
        );
        try {
            // kwok may take a moment to see the mapping: a backup taken before it fails; take another.
            let good = null;
            const deadline = Date.now() + 60000;
            while (!good) {
                const b = await takeBackup(panel);
                if ((await b.row.getAttribute('data-status')) === 'succeeded') good = b;
                else if (Date.now() > deadline)
                    fail(`the mapped backup failed: ${await b.row.getByTestId('backup-reason').innerText()}`);
            }
            const size = (await good.row.getByTestId('backup-size').innerText()).trim();
            log(`  succeeded backup: ${size}, ${(await good.row.getByTestId('backup-kind').innerText()).trim()}`);
            if (!/^\d+(\.\d)? (B|KiB)$/.test(size)) fail(`the size reads "${size}"`);
            const href = await good.row.getByTestId('backup-file-database.sql.gz').getAttribute('href');
            const res = await page.request.get(new URL(href, BASE).toString());
            const got = res.ok() ? zlib.gunzipSync(await res.body()).toString() : '';
            if (got !== dump) fail(`the database download answered ${res.status()}: "${got.slice(0, 100)}"`);
            for (const f of ['wp-content.tar.gz', 'manifest.json'])
                await good.row.getByTestId(`backup-file-${f}`).waitFor();

            // The shop changes; the restore asks for the name, then brings the backup back.
            fs.writeFileSync(upload, 'a logo uploaded after the backup\n');
            await good.row.getByTestId('backup-restore').click();
            const form = good.row.getByTestId('backup-restore-confirm');
            const input = form.getByTestId('backup-confirm-input');
            const submit = form.getByTestId('backup-confirm-submit');
            await input.fill(NAME.slice(0, -1));
            if (await submit.isEnabled()) fail('the restore button is enabled before the full name is typed');
            await axeCheck('store page, backups (restore confirmation)');
            await input.fill(NAME);
            // Every text the note shows, recorded as it changes: the restore's note can give way to the
            // safety backup's within one poll on a fast host, too soon to be waited for.
            await panel.getByTestId('backups-note').evaluate((el) => {
                window.__backupNotes = [];
                new MutationObserver(() => window.__backupNotes.push(el.textContent)).observe(el, {
                    childList: true,
                    subtree: true,
                    characterData: true,
                });
            });
            const [restore] = await Promise.all([
                page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/restore')),
                submit.click(),
            ]);
            if (restore.status() !== 202) fail(`POST restore answered ${restore.status()}: ${await restore.text()}`);
            await page.waitForFunction(() => window.__backupNotes.some((t) => t.startsWith('Restoring')));
            await page
                .getByTestId('timeline')
                .locator('[data-action="backup.restored"]')
                .waitFor({ timeout: TIMEOUT_MS });
            const restored = fs.readFileSync(path.join(dir, 'restored.sql'), 'utf8');
            if (restored !== dump) fail(`mysql was fed "${restored.slice(0, 100)}"`);
            if (fs.readFileSync(upload, 'utf8') !== 'the logo of the shop\n') fail('the upload was not restored');
            // The safety backup, taken before the restore, is in the list.
            await page.waitForFunction(
                () =>
                    document.querySelectorAll('[data-testid="backups-list"] > li[data-status="succeeded"]').length >= 2,
            );
            // ... labelled as the safety backup of the restore.
            await panel.getByTestId('backup-safety').first().waitFor({ timeout: TIMEOUT_MS });
            await axeCheck('store page with its backups');
            await saveShot(panel, 'store-backups.png');

            // At phone width the panel fits the screen.
            await page.setViewportSize({ width: 390, height: 844 });
            const overflow = await panel.evaluate((el) => el.scrollWidth - el.clientWidth);
            const pageOverflow = await page.evaluate(
                () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
            );
            await page.setViewportSize({ width: 1280, height: 900 });
            if (overflow > 0 || pageOverflow > 0)
                fail(`at 390 px the panel overflows by ${overflow} px, the page by ${pageOverflow} px`);

            // The failed backup goes, after its name is typed.
            await bad.row.getByTestId('backup-delete').click();
            await bad.row.getByTestId('backup-confirm-input').fill(NAME);
            const [del] = await Promise.all([
                page.waitForResponse((r) => r.request().method() === 'DELETE'),
                bad.row.getByTestId('backup-confirm-submit').click(),
            ]);
            if (del.status() !== 204) fail(`DELETE backup answered ${del.status()}: ${await del.text()}`);
            await bad.row.waitFor({ state: 'detached' });
        } finally {
            kubectl(['delete', 'clusterexec', standin, '--ignore-not-found']);
            fs.rmSync(dir, { recursive: true, force: true });
        }
    },
);

// --- accounts: an admin and two tenants, side by side ----------------------

await tenantStep('the admin sees its role and the admin pages', async () => {
    await navLink(page, 'Stores').click();
    await page.getByTestId('create-form').waitFor();
    const role = (await page.getByTestId('user-role').innerText()).trim();
    if (role !== 'admin') fail(`the admin's shell says role "${role}"`);
    const nav = await navNames(page);
    if (nav.join(',') !== 'Stores,Tokens,Webhooks,Accounts,Audit,Platform')
        fail(`the admin's navigation is ${nav.join(', ')}`);
});

await tenantStep(`tenant ${TENANT.name} signs in in a second browser and sees none of the admin's stores`, async () => {
    tenantPage = await openBrowser(TENANT.name);
    await signIn(tenantPage, TENANT.token, TENANT.name);
    const role = (await tenantPage.getByTestId('user-role').innerText()).trim();
    if (role !== 'tenant') fail(`the tenant's shell says role "${role}"`);
    const nav = await navNames(tenantPage);
    if (nav.join(',') !== 'Stores,Tokens,Webhooks') fail(`the tenant's navigation is ${nav.join(', ')}`);
    if (await tenantPage.getByTestId(`store-row-${NAME}`).count()) fail(`the tenant sees the admin's store ${NAME}`);
    await tenantPage.getByTestId('account-quotas').waitFor();
    log(`  quotas: ${(await tenantPage.getByTestId('account-quotas').innerText()).replace(/\s+/g, ' ')}`);
    if (await tenantPage.getByTestId('limit-max_stores').count()) fail('the tenant sees the platform-wide limits');
    // A tenant learns only whether a store fits: no nodes, no amounts.
    const room = (await tenantPage.getByTestId('capacity-summary').innerText()).trim();
    if (!/^A new store fits\.$|^Full: a new store does not fit now\.$/.test(room))
        fail(`the tenant's room for stores says "${room}"`);
    if (
        (await tenantPage.getByTestId('capacity-nodes').count()) ||
        (await tenantPage.getByTestId('capacity-memory').count())
    )
        fail("the tenant sees the platform's nodes or amounts");
    const counts = (await tenantPage.getByTestId('stores-by-status').innerText()).replace(/\s+/g, ' ');
    if (!/Ready 0/.test(counts)) fail(`the tenant's stores by status count the admin's store: ${counts}`);
});

// A real HTTP receiver on loopback (the daemon's config allows loopback destinations for it) that
// keeps every request it is sent; deliveries are checked against the webhook's secret.
const hookReceiver = { received: [], secret: null, server: null, url: null };
function signedDeliveries() {
    return hookReceiver.received.filter(({ headers, body }) => {
        const want = 'sha256=' + crypto.createHmac('sha256', hookReceiver.secret).update(body).digest('hex');
        return headers['x-storeagent-signature'] === want;
    });
}
async function waitDelivery(pred, what) {
    const deadline = Date.now() + UI_MS * 2;
    for (;;) {
        const found = signedDeliveries()
            .map((d) => JSON.parse(d.body.toString()))
            .find(pred);
        if (found) return found;
        if (Date.now() > deadline) fail(`no signed delivery of ${what}; received ${hookReceiver.received.length}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

await tenantStep('the tenant adds a webhook on its Webhooks page and sees its secret once', async () => {
    hookReceiver.server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            hookReceiver.received.push({ headers: req.headers, body: Buffer.concat(chunks) });
            res.writeHead(204).end();
        });
    });
    await new Promise((r) => hookReceiver.server.listen(0, '127.0.0.1', r));
    hookReceiver.url = `http://127.0.0.1:${hookReceiver.server.address().port}/hook`;
    await navLink(tenantPage, 'Webhooks').click();
    await tenantPage.getByTestId('webhooks-page').waitFor();
    await tenantPage.getByTestId('webhook-url').fill(hookReceiver.url);
    await tenantPage.getByTestId('webhook-create').click();
    hookReceiver.secret = (await tenantPage.getByTestId('webhook-secret').innerText()).trim();
    if (!hookReceiver.secret.startsWith('whsec_')) fail(`the secret shown reads "${hookReceiver.secret}"`);
    await axeCheck('webhooks page (secret shown)', tenantPage);
    await tenantPage.getByRole('button', { name: 'I have copied it' }).click();
    if (await tenantPage.getByTestId('webhook-secret').count()) fail('the secret is still on the page');
    await navLink(tenantPage, 'Stores').click();
    await tenantPage.getByTestId('create-form').waitFor();
});

await tenantStep(`the tenant creates "${TNAME}" and its list shows only that store`, async () => {
    await tenantPage.getByTestId('create-name').fill(TNAME);
    const [res] = await Promise.all([
        tenantPage.waitForResponse((r) => r.url().endsWith('/api/v1/stores') && r.request().method() === 'POST'),
        tenantPage.getByTestId('create-submit').click(),
    ]);
    const body = await res.json().catch(() => null);
    if (res.status() !== 202) fail(`POST /api/v1/stores answered ${res.status()}: ${JSON.stringify(body)}`);
    tenantStoreId = body?.id ?? null;
    if (body?.owner && body.owner !== TENANT.name) fail(`the new store belongs to ${body.owner}`);
    await tenantPage.getByTestId(`store-row-${TNAME}`).waitFor();
    const rows = await tenantPage
        .locator('[data-testid^="store-row-"]')
        .evaluateAll((els) => els.map((e) => e.dataset.testid.slice('store-row-'.length)));
    if (rows.join(',') !== TNAME) fail(`the tenant's list shows ${rows.join(', ')}`);
    await waitReady(tenantPage, TNAME);
});

await tenantStep(
    `the store's READY reaches the tenant's webhook, and so does a test event sent from the page`,
    async () => {
        if (!hookReceiver.secret) fail('no webhook was created');
        const ready = await waitDelivery((d) => d.event === 'store.ready' && d.store?.name === TNAME, 'store.ready');
        if (ready.store.owner !== TENANT.name) fail(`the store.ready delivery names owner ${ready.store.owner}`);
        await navLink(tenantPage, 'Webhooks').click();
        const item = tenantPage.getByRole('listitem').filter({ hasText: hookReceiver.url });
        await item.getByRole('button', { name: 'Send test event' }).click();
        await waitDelivery((d) => d.event === 'webhook.test', 'webhook.test');
        await tenantPage
            .locator('[data-testid^="delivery-"][data-state="delivered"]')
            .filter({ hasText: 'webhook.test' })
            .first()
            .waitFor({ timeout: UI_MS });
        await tenantPage
            .locator('[data-testid^="delivery-"][data-state="delivered"]')
            .filter({ hasText: 'store.ready' })
            .first()
            .waitFor({ timeout: UI_MS });
        await axeCheck('webhooks page (delivery log)', tenantPage);
        await saveShot(tenantPage.getByTestId('webhooks-page'), 'webhooks.png');
        hookReceiver.server.close();
        await navLink(tenantPage, 'Stores').click();
        await tenantPage.getByTestId(`store-link-${TNAME}`).waitFor();
    },
);

await tenantStep('the tenant reveals the store admin password on its store page', async () => {
    await tenantPage.getByTestId(`store-link-${TNAME}`).click();
    const card = tenantPage.getByTestId('store-admin');
    await card.waitFor();
    const admin = await card.getByTestId('admin-url').innerText();
    if (!/\/wp-admin\/?/.test(admin)) fail(`the admin URL reads "${admin}"`);
    const [res] = await Promise.all([
        tenantPage.waitForResponse((r) => r.url().endsWith('/credentials')),
        card.getByTestId('admin-reveal').click(),
    ]);
    if (res.status() !== 200) fail(`GET credentials answered ${res.status()}: ${await res.text()}`);
    if (!/no-store/.test(res.headers()['cache-control'] ?? '')) fail('the credentials answer may be cached');
    const password = (await card.getByTestId('admin-password-value').innerText()).trim();
    if (password.length < 8) fail(`the revealed password is "${password}"`);
    await axeCheck('store page (tenant)', tenantPage);
    // The screenshot shows the card with the password hidden again.
    await card.getByTestId('admin-hide').click();
    await saveShot(card, 'store-admin-card.png');
});

await tenantStep(
    `tenant ${OTHER.name} opening that store's address gets the same "not found" as a missing store`,
    async () => {
        if (!tenantStoreId) fail('no store id from the creation');
        otherPage = await openBrowser(OTHER.name);
        await signIn(otherPage, OTHER.token, OTHER.name);
        const read = async (id) => {
            await otherPage.goto(`${BASE}/stores/${id}`, { waitUntil: 'domcontentloaded' });
            const h = otherPage.getByRole('heading', { level: 1 });
            await h.filter({ hasText: /not found|Could not load/ }).waitFor();
            return {
                heading: (await h.innerText()).trim(),
                text: (await otherPage.locator('main').innerText()).replaceAll(id, '<id>').trim(),
            };
        };
        const theirs = await read(tenantStoreId);
        const missing = await read('0000000000000000');
        log(`  another tenant's store: ${theirs.heading}; a missing store: ${missing.heading}`);
        if (theirs.heading !== 'Store not found') fail(`the other tenant sees "${theirs.heading}"`);
        if (theirs.text !== missing.text) fail(`the pages differ: "${theirs.text}" vs "${missing.text}"`);
        if ((await otherPage.locator('main').innerText()).includes(TNAME)) fail('the not-found page names the store');
    },
);

await tenantStep('the admin sees both stores with their owners, and filters by owner', async () => {
    await page.getByTestId(`store-row-${TNAME}`).waitFor();
    await page.getByTestId(`store-row-${NAME}`).waitFor();
    // The cell reads "Owner: NAME" to a screen reader; the label is visually hidden.
    const owner = (await page.getByTestId(`store-owner-${TNAME}`).innerText()).replace(/^\s*Owner:\s*/, '').trim();
    if (owner !== TENANT.name) fail(`the owner column says "${owner}" for ${TNAME}`);
    const cut = await page.getByTestId(`store-owner-${TNAME}`).evaluate((el) => el.scrollWidth > el.clientWidth);
    if (cut) fail(`the owner "${owner}" is cut in the list row`);
    await page.getByLabel('Owner').selectOption(TENANT.name);
    await page.getByTestId(`store-row-${NAME}`).waitFor({ state: 'detached' });
    await page.getByTestId(`store-row-${TNAME}`).waitFor();
    await page.getByLabel('Owner').selectOption('');
    await page.getByTestId(`store-row-${NAME}`).waitFor();
    await axeCheck('stores list (admin, with owners)');
});

await tenantStep('the Accounts page lists the tenants with their stores', async () => {
    await navLink(page, 'Accounts').click();
    const row = page.getByTestId(`account-row-${TENANT.name}`);
    await row.waitFor();
    const cells = await row.getByRole('cell').allInnerTexts();
    log(`  ${TENANT.name}: ${cells.join(' | ')}`);
    if (cells[0] !== 'tenant' || cells[1] !== 'Active' || cells[2] !== '1')
        fail(`the row of ${TENANT.name} reads ${cells.join(' | ')}`);
    await page.getByTestId(`account-row-${OTHER.name}`).waitFor();
    await axeCheck('accounts');
    await saveShot(page.getByTestId('accounts-page'), 'accounts.png');
});

await tenantStep("the Audit page lists the tenant's store creation", async () => {
    await navLink(page, 'Audit').click();
    await page.getByLabel('Actor').fill(TENANT.name);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.getByTestId('audit-row');
    const created = rows.filter({ hasText: TNAME }).filter({ hasText: 'store.create' });
    await created.first().waitFor();
    const text = (await created.first().innerText()).replace(/\s+/g, ' ');
    log(`  ${text}`);
    const actors = await rows.evaluateAll((els) => els.map((e) => e.children[1]?.textContent ?? ''));
    if (!actors.every((a) => a.startsWith(TENANT.name))) fail(`the actor filter let through: ${actors.join(', ')}`);
    const href = await page.getByTestId('audit-export').getAttribute('href');
    if (!href.includes('format=jsonl')) fail(`the export link is ${href}`);
    const res = await page.request.get(new URL(href, BASE).toString());
    const lines = (await res.text()).trim().split('\n').filter(Boolean);
    if (!res.ok() || !lines.length) fail(`the export answered ${res.status()} with ${lines.length} lines`);
    if (!lines.some((l) => JSON.parse(l).action === 'store.create')) fail('the export has no store.create line');
    await axeCheck('audit');
});

await tenantStep('the tenant deletes its store', async () => {
    await tenantPage.getByTestId('action-delete').click();
    await tenantPage.getByTestId('delete-confirm-input').fill(TNAME);
    const [res] = await Promise.all([
        tenantPage.waitForResponse((r) => r.request().method() === 'DELETE'),
        tenantPage.getByTestId('delete-confirm-submit').click(),
    ]);
    if (res.status() !== 202) fail(`DELETE answered ${res.status()}: ${await res.text()}`);
    tenantStoreId = null;
    // Back to the admin's own store page, where the next step deletes it.
    await navLink(page, 'Stores').click();
    await page.getByTestId(`store-link-${NAME}`).click();
    await page.getByTestId('store-detail').waitFor();
});

// --- domains: the store page's Domains card, against the daemon's real checks. A second store, made
// through the API, is the "other store" whose domain is refused; the platform's base domain is the e2e
// daemon's default (stores.base_domain: localtest.me). Each accepted change redeploys the store.

const DOM = {
    name: `${NAME}-d`,
    // Fixed, for the screenshots: each run of tests/e2e/run has a database of its own.
    domain: 'corner-shop.example',
    platformHost: `other-${NAME}.localtest.me`,
    otherId: null,
};
const domainApi = async (method, p, body) => {
    const res = await fetch(`${BASE}/api/v1${p}`, {
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
};
const domainCard = () => page.getByTestId('store-domains');
const domainRow = (d) => domainCard().getByTestId('domain-row').filter({ hasText: d });

async function openDomains(id) {
    await page.goto(`${BASE}/stores/${id}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('store-detail').waitFor();
    await domainCard().waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid="domain-input"]')?.disabled, null, {
        timeout: UI_MS,
    });
}

// Every status the store page's badge shows from now on, to see a change redeploy the store.
async function watchDomainStatus() {
    await page.evaluate((name) => {
        window.__e2eDomainStatuses = [];
        const seen = () => {
            const s = document.querySelector(`[data-testid="status-${name}"]`)?.getAttribute('data-status');
            if (s && window.__e2eDomainStatuses.at(-1) !== s) window.__e2eDomainStatuses.push(s);
        };
        window.__e2eDomainObserver?.disconnect();
        window.__e2eDomainObserver = new MutationObserver(seen);
        window.__e2eDomainObserver.observe(document.body, { subtree: true, childList: true, attributes: true });
        seen();
    }, NAME);
}

async function domainRedeployed(what) {
    try {
        await page.waitForFunction(
            () => {
                const s = window.__e2eDomainStatuses;
                return s.some((x) => x !== 'READY') && (s.at(-1) === 'READY' || s.at(-1) === 'FAILED');
            },
            null,
            { timeout: TIMEOUT_MS, polling: 250 },
        );
    } catch {
        fail(`${what}: the store did not redeploy to READY within ${TIMEOUT_S} s`);
    }
    const seen = await page.evaluate(() => window.__e2eDomainStatuses);
    log(`  ${what}: ${seen.join(' -> ')}`);
    if (seen.at(-1) !== 'READY') fail(`${what}: the store is ${seen.at(-1)}`);
}

// Click the card's button and return the API's answer to the request it sent.
async function domainRequest(method, click) {
    const [res] = await Promise.all([
        page.waitForResponse(
            (r) =>
                r.request().method() === method && /\/(domains|primary-domain)(\/|$)/.test(new URL(r.url()).pathname),
        ),
        click(),
    ]);
    return { status: res.status(), body: await res.json().catch(() => null) };
}

// axe-core on the Domains card alone: no violation of any impact.
async function axeDomains(screenName) {
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
        const r = await window.axe.run(document.querySelector('[data-testid="store-domains"]'));
        return r.violations.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    if (violations.length) fail(`axe on the Domains card (${screenName}): ${violations.join('; ')}`);
    await axeCheck(screenName);
}

async function refusedOnCard(domain, wantStatus, wantCode) {
    const input = domainCard().getByTestId('domain-input');
    await input.fill(domain);
    const res = await domainRequest('POST', () => domainCard().getByTestId('domain-add').click());
    if (res.status !== wantStatus || res.body?.error?.code !== wantCode)
        fail(`adding ${domain} answered ${res.status} ${JSON.stringify(res.body)}`);
    const message = res.body.error.message;
    const shown = domainCard().getByTestId('domains-error-message');
    await shown
        .filter({ hasText: message })
        .waitFor({ timeout: UI_MS })
        .catch(async () => {
            const now = (await shown.count()) ? await shown.innerText() : '(nothing)';
            fail(`the card shows "${now}", the API said "${message}"`);
        });
    if ((await input.inputValue()) !== domain) fail(`the refused ${domain} is no longer in the field`);
    log(`  ${domain}: ${res.status} ${wantCode}: ${message}`);
    return message;
}

await step('Domains: add a domain; it is listed, and the store redeploys to READY', async () => {
    if (!storeId) fail('no store id from the creation');
    // The other store provisions while this one redeploys.
    const other = await domainApi('POST', '/stores', { name: DOM.name, engine: 'woocommerce' });
    if (other.status !== 202) fail(`creating ${DOM.name} answered ${other.status}: ${JSON.stringify(other.body)}`);
    DOM.otherId = other.body.id;
    await openDomains(storeId);
    const primaryLine = domainCard().getByTestId('domains-primary');
    if (!/own host/.test(await primaryLine.innerText())) fail(`before any domain: "${await primaryLine.innerText()}"`);
    if (await domainCard().getByTestId('domain-row').count()) fail('a new store already lists domains');
    await watchDomainStatus();
    await domainCard().getByTestId('domain-input').fill(DOM.domain);
    const res = await domainRequest('POST', () => domainCard().getByTestId('domain-add').click());
    if (res.status !== 202) fail(`adding ${DOM.domain} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const row = domainRow(DOM.domain);
    await row.waitFor();
    if ((await domainCard().getByTestId('domain-input').inputValue()) !== '') fail('the field keeps the added domain');
    if (await row.getByTestId('domain-primary-badge').count()) fail('a domain added without "primary" is primary');
    await row.getByRole('button', { name: `Make ${DOM.domain} the primary domain` }).waitFor();
    await domainRedeployed('add');
    // READY again: the row's buttons can be used, and the store's Ingress serves the domain.
    await page.waitForFunction(
        () => ![...document.querySelectorAll('[data-testid="domain-row"] button')].some((b) => b.disabled),
        null,
        { timeout: UI_MS },
    );
    if (KUBE) {
        const ing = JSON.parse(kubectl(['-n', `store-${NAME}`, 'get', 'ingress', NAME, '-o', 'json']).toString());
        const hosts = ing.spec.rules.map((r) => r.host);
        log(`  Ingress hosts: ${hosts.join(', ')}`);
        if (!hosts.includes(DOM.domain)) fail(`the Ingress serves ${hosts.join(', ')}, not ${DOM.domain}`);
    }
});

await step('Domains: a host under the platform base domain is refused with the API message', async () => {
    const message = await refusedOnCard(DOM.platformHost, 400, 'invalid_request');
    if (!message.includes('localtest.me')) fail(`the refusal does not name the platform's domain: "${message}"`);
    if (await domainRow(DOM.platformHost).count()) fail(`the refused ${DOM.platformHost} is listed`);
    await domainCard().getByTestId('domain-input').fill('');
});

await step('Domains: make it primary; the shop URL follows; desktop and phone screenshots, axe', async () => {
    await watchDomainStatus();
    const row = domainRow(DOM.domain);
    const res = await domainRequest('POST', () =>
        row.getByRole('button', { name: `Make ${DOM.domain} the primary domain` }).click(),
    );
    if (res.status !== 202) fail(`making ${DOM.domain} primary answered ${res.status}: ${JSON.stringify(res.body)}`);
    await row.getByTestId('domain-primary-badge').waitFor();
    await domainCard()
        .getByTestId('domains-primary')
        .filter({ hasText: `The shop's URLs use ${DOM.domain}.` })
        .waitFor();
    await domainCard().getByTestId('domain-own-host').waitFor();
    if (await domainCard().getByTestId('domains-error').count()) fail('the earlier refusal is still shown');
    await domainRedeployed('primary');
    const url = page.getByTestId('detail-url');
    await page
        .waitForFunction(
            (d) => document.querySelector('[data-testid="detail-url"]')?.getAttribute('href')?.includes(`//${d}`),
            DOM.domain,
            { timeout: UI_MS },
        )
        .catch(async () => fail(`the store's URL reads ${await url.getAttribute('href')}, not ${DOM.domain}`));
    log(`  store URL: ${await url.getAttribute('href')}`);
    await axeDomains('store page, Domains (a primary domain)');
    await saveShot(domainCard(), 'store-domains.png');
    try {
        for (const width of [320, 390]) {
            await page.setViewportSize({ width, height: 844 });
            const over = await domainCard().evaluate((el) => el.scrollWidth - el.clientWidth);
            const pageOver = await page.evaluate(
                () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
            );
            if (over > 0 || pageOver > 0)
                fail(`at ${width} px the card overflows by ${over} px, the page by ${pageOver}`);
            // A name that fits a line is not cut in two next to its buttons (they go below it instead).
            const lines = await domainRow(DOM.domain)
                .getByTestId('domain-name')
                .evaluate((el) => {
                    const r = document.createRange();
                    r.selectNodeContents(el);
                    return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size;
                });
            if (lines > 1) fail(`at ${width} px ${DOM.domain} is cut over ${lines} lines`);
        }
        await axeDomains('store page, Domains at 390 px');
        await saveShot(domainCard(), 'store-domains-phone.png');
    } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
    }
});

await step("Domains: another store's domain is refused on that store's page, with the API message", async () => {
    if (!DOM.otherId) fail('the other store was not created');
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
        const s = await domainApi('GET', `/stores/${DOM.otherId}`);
        if (s.body?.status === 'READY') break;
        if (s.body?.status === 'FAILED' || Date.now() > deadline)
            fail(`${DOM.name} is ${s.body?.status}: ${JSON.stringify(s.body)}`);
        await new Promise((r) => setTimeout(r, 250));
    }
    await openDomains(DOM.otherId);
    await refusedOnCard(DOM.domain, 409, 'domain_taken');
    if (await domainCard().getByTestId('domain-row').count()) fail(`${DOM.name} lists a domain it was refused`);
    await axeDomains('store page, Domains (a refusal shown)');
    const del = await domainApi('DELETE', `/stores/${DOM.otherId}`);
    if (del.status !== 202) fail(`deleting ${DOM.name} answered ${del.status}: ${JSON.stringify(del.body)}`);
});

await step('Domains: remove it; the list empties and the shop URL is the own host again', async () => {
    await openDomains(storeId);
    await watchDomainStatus();
    const res = await domainRequest('DELETE', () =>
        domainRow(DOM.domain)
            .getByRole('button', { name: `Remove ${DOM.domain}` })
            .click(),
    );
    if (res.status !== 202) fail(`removing ${DOM.domain} answered ${res.status}: ${JSON.stringify(res.body)}`);
    await domainRow(DOM.domain).waitFor({ state: 'detached' });
    await domainCard().getByTestId('domains-primary').filter({ hasText: 'own host' }).waitFor();
    await domainRedeployed('remove');
    await page.waitForFunction(
        (n) => document.querySelector('[data-testid="detail-url"]')?.getAttribute('href')?.includes(`//${n}.`),
        NAME,
        { timeout: UI_MS },
    );
    // The other store is gone before the scenario goes on.
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
        const s = await domainApi('GET', `/stores/${DOM.otherId}`);
        if (s.status === 404 || s.body?.status === 'DELETED') break;
        if (Date.now() > deadline) fail(`${DOM.name} is still ${s.body?.status} after ${TIMEOUT_S} s`);
        await new Promise((r) => setTimeout(r, 250));
    }
    DOM.otherId = null;
});

// A failed step above skips the rest: the other store goes all the same.
if (DOM.otherId) {
    const del = await domainApi('DELETE', `/stores/${DOM.otherId}`).catch((err) => ({ status: err.message }));
    log(`cleanup: DELETE ${DOM.name} answered ${del.status}`);
}

await step('delete it, typing its name, and watch it leave the list', async () => {
    await page.getByTestId('action-delete').click();
    const input = page.getByTestId('delete-confirm-input');
    await input.waitFor();
    const confirm = page.getByTestId('delete-confirm-submit');
    await input.fill(NAME.slice(0, -1));
    if (await confirm.isEnabled()) fail('the delete button is enabled before the full name is typed');
    await input.fill(NAME);
    const [res] = await Promise.all([
        page.waitForResponse(
            (r) => r.request().method() === 'DELETE' && /\/api\/v1\/stores\/[^/]+$/.test(new URL(r.url()).pathname),
        ),
        confirm.click(),
    ]);
    if (res.status() !== 202) fail(`DELETE answered ${res.status()}: ${await res.text()}`);
    await page.getByTestId('create-form').waitFor();
    await page.evaluate((name) => {
        window.__e2eDocument = true;
        window.__e2eStatuses = [];
        const seen = () => {
            const s = document.querySelector(`[data-testid="status-${name}"]`)?.getAttribute('data-status');
            if (s && window.__e2eStatuses.at(-1) !== s) window.__e2eStatuses.push(s);
        };
        new MutationObserver(seen).observe(document.body, {
            subtree: true,
            childList: true,
            attributes: true,
        });
        seen();
    }, NAME);
    try {
        await row().waitFor({ state: 'detached', timeout: TIMEOUT_MS });
    } catch {
        const now = await badge()
            .getAttribute('data-status')
            .catch(() => 'gone');
        fail(`the store did not leave the list within ${TIMEOUT_S} s (still ${now})`);
    }
    const { statuses, sameDocument } = await page.evaluate(() => ({
        statuses: window.__e2eStatuses,
        sameDocument: window.__e2eDocument === true,
    }));
    log(`  statuses seen: ${statuses.join(' -> ') || '(already gone)'} -> gone`);
    if (!sameDocument) fail('the page was reloaded; the deletion should have arrived live');
    // Its page stays: the URL is no longer a link, and the history says where it went.
    const deletedId = storeId;
    storeId = null;
    await page.goto(`${BASE}/stores/${deletedId}`, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-testid="store-detail"][data-status="DELETED"]').waitFor();
    await page.getByTestId('detail-url-gone').waitFor();
    if (await page.getByTestId('detail-url').count()) fail("the deleted store's URL is still a link");
    await page.getByTestId('releases-gone').waitFor();
    if (await page.getByText('No Helm release yet.').count()) fail('the deleted store says "No Helm release yet."');
    if (await page.getByTestId('releases').getByText('(current)').count())
        fail("a deleted store's history marks a revision current");
    await axeCheck('deleted store');
    await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('create-form').waitFor();
    await shot('stores-list-after-delete.png', { fullPage: false });
});

await step('no serious accessibility problems (axe-core)', async () => {
    if (a11y.length) {
        fail(
            a11y
                .map((v) => `${v.screen}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).join(', ')}`)
                .join('; '),
        );
    }
});

// --- wrap up --------------------------------------------------------------

if (failed) {
    await shot('failure.png').catch(() => {});
    fs.writeFileSync(
        path.join(ARTIFACTS, 'failure.txt'),
        await page
            .locator('body')
            .innerText()
            .catch(() => ''),
    );
    // Leave nothing behind on the cluster for the next run (the admin may delete any store).
    for (const id of [storeId, tenantStoreId].filter(Boolean)) {
        try {
            const s = await page.request.get(`${BASE}/api/v1/session`);
            const csrf = (await s.json()).csrf_token;
            const r = await page.request.delete(`${BASE}/api/v1/stores/${id}`, {
                headers: { 'X-CSRF-Token': csrf },
            });
            log(`cleanup: DELETE ${id} answered ${r.status()}`);
        } catch (err) {
            log(`cleanup failed: ${err.message}`);
        }
    }
}

for (const c of contexts) await c.close().catch(() => {});
for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });

const count = (state) => results.filter((r) => r.state === state).length;
for (const r of results.filter((x) => x.state === 'failed')) {
    console.error(`\nFAILED: ${r.title}\n  ${r.err.stack || r.err.message}`);
}
console.log(`\nartifacts: ${ARTIFACTS}`);
console.log(`e2e: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
process.exit(failed ? 1 : 0);
