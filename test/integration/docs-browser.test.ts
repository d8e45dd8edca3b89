import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platforms } from '../support/context.js';
import { TEST_KEY } from '../support/auth.js';
import { OURS } from '../support/conformance.js';

/** Debian's chromium (.ci/run installs it); never a browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = !existsSync(CHROMIUM);
// CI installs chromium, so there a missing browser is a failure; elsewhere it is said out loud.
if (missing && !process.env.CI) console.warn(`SKIPPED: the /docs browser test, because there is no chromium at ${CHROMIUM} (apt-get install chromium, or run .ci/run)`);

const operations = Object.values(OURS.paths).flatMap((item) => Object.values(item) as { operationId: string; tags: string[] }[]);
const tags = [...new Set(operations.map((o) => o.tags[0]!))];

describe.each(platforms)('the /docs page in a real browser ($mode)', (p) => {
  let context: BrowserContext | undefined;
  let userDataDir = '';

  beforeAll(async () => {
    if (missing) return;
    userDataDir = mkdtempSync(join(tmpdir(), 'rgw-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('loads without console errors, lists every tag and operation, and "Try it out" lists the models', async () => {
    if (missing) {
      expect(process.env.CI, `chromium is missing at ${CHROMIUM}, which .ci/run installs`).toBeFalsy();
      return;
    }
    const page = await context!.newPage();
    const errors: string[] = [];
    const offsite: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith(p.origin) && !r.url().startsWith('data:') && offsite.push(r.url()));

    await page.goto(`${p.origin}/docs`, { waitUntil: 'load' });
    await page.locator('.opblock-tag').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock-tag').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')))).toEqual(tags);
    const shown = await page.locator('.opblock-summary-operation-id').allTextContents();
    expect(shown.map((s) => s.trim()).sort()).toEqual(operations.map((o) => o.operationId).sort());

    // Authorize with a key, as a user of a keyed server would, then try GET /v1/models.
    await page.locator('.auth-wrapper .authorize').click();
    await page.locator('.modal-ux input').first().fill(TEST_KEY);
    await page.locator('.modal-ux .auth-btn-wrapper .authorize').click();
    await page.locator('.modal-ux .btn-done').click();
    const op = page.locator('#operations-Models-listModels');
    await op.locator('.opblock-summary').first().click();
    await op.locator('.try-out__btn').click();
    await op.locator('.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.textContent())?.trim()).toBe('200');
    expect(await op.locator('.live-responses-table').first().textContent()).toContain('"id": "mock-model"');

    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
    await page.close();
  }, 90_000);
});
