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
//
// Exits 0 when every step passed, 1 when one failed, 2 on bad usage. The last
// line reads "e2e: N passed, N failed, N skipped".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'storeagent-e2e-chromium-'));

const context = await chromium
    .launchPersistentContext(profile, {
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
    })
    .catch((err) => {
        console.error(`e2e: could not start ${CHROMIUM}: ${err.message}`);
        console.log('e2e: 0 passed, 1 failed');
        fs.rmSync(profile, { recursive: true, force: true });
        process.exit(1);
    });
context.setDefaultTimeout(UI_MS);
const page = context.pages()[0] ?? (await context.newPage());

const pageErrors = [];
page.on('pageerror', (err) => pageErrors.push(err.message));
page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of (4\d\d)/.test(msg.text())) log(`browser console: ${msg.text()}`);
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
async function axeCheck(screenName) {
    // Evaluated through the devtools protocol, so the daemon's Content-Security-Policy
    // (which should forbid inline scripts) does not stop it and stays in force for the app.
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
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

// --- the scenario ---------------------------------------------------------

await step('sign in with the API token', async () => {
    await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
    const token = page.getByLabel('API token');
    await token.waitFor();
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
    const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/stores') && r.request().method() === 'POST'),
        page.getByTestId('create-submit').click(),
    ]);
    const body = await res.json().catch(() => null);
    if (res.status() !== 202) fail(`POST /api/v1/stores answered ${res.status()}: ${JSON.stringify(body)}`);
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
});

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
    storeId = null;
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
    if (storeId) {
        // Leave nothing behind on the cluster for the next run.
        try {
            const s = await page.request.get(`${BASE}/api/v1/session`);
            const csrf = (await s.json()).csrf_token;
            const r = await page.request.delete(`${BASE}/api/v1/stores/${storeId}`, {
                headers: { 'X-CSRF-Token': csrf },
            });
            log(`cleanup: DELETE ${storeId} answered ${r.status()}`);
        } catch (err) {
            log(`cleanup failed: ${err.message}`);
        }
    }
}

await context.close().catch(() => {});
fs.rmSync(profile, { recursive: true, force: true });

const count = (state) => results.filter((r) => r.state === state).length;
for (const r of results.filter((x) => x.state === 'failed')) {
    console.error(`\nFAILED: ${r.title}\n  ${r.err.stack || r.err.message}`);
}
console.log(`\nartifacts: ${ARTIFACTS}`);
console.log(`e2e: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
process.exit(failed ? 1 : 0);
