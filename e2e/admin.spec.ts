import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { freshServerForThisFile } from './fixtures/fresh-server';
import { AdminClient } from './sim/admin-client';
import type { CoordinatorStatus } from '../server/federation/coordinator';
import type { VersionRow } from '../server/registry/registry';

const SCREENSHOT = resolve(import.meta.dirname, '../test-results/admin-console.png');
const CLIENTS = 3;
const app = freshServerForThisFile();

/** Opens one browser client of the main app that joins with `token` and waits until it is connected. */
async function openClient(
  browser: Browser,
  baseURL: string,
  index: number,
  token: string,
  contexts: BrowserContext[],
): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const q = new URLSearchParams({
    backend: 'wasm',
    dataset: 'fashion-mnist',
    shard: String(index),
    clients: String(CLIENTS),
    split: 'iid',
    seed: '3',
    join: '1',
    token,
  });
  await page.goto(`${baseURL}/?${q}`);
  await expect(page.getByTestId('fed-conn')).toHaveText('connected', { timeout: 120_000 });
  return page;
}

/** Clicks a control and accepts the console's confirm dialog. */
async function confirmed(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('confirm-dialog')).toBeHidden();
}

const versionOf = async (page: Page) =>
  Number((await page.getByTestId('model-version').textContent())!.replace(/^v/, ''));

test.describe('admin aggregation console', () => {
  test('sign in, watch rounds live, create a token, pause/resume, roll back, charts', async ({
    page,
    browser,
    baseURL,
  }, testInfo) => {
    test.setTimeout(600_000);
    const admin = new AdminClient(baseURL!, app.adminToken);
    const contexts: BrowserContext[] = [];
    try {
      // A small, fast round config (the e2e server runs the default ~405k-parameter encoder).
      await admin.request('PUT', '/api/admin/config', {
        training: { localSteps: 2, batchSize: 16, learningRate: 1e-3, temperature: 0.5 },
        cohort: { mode: 'fixed', size: CLIENTS },
        minClients: 2,
        minSurvivors: 2,
        trainDeadlineMs: 180_000,
        phaseDeadlineMs: 30_000,
        roundIntervalMs: 500,
        maxUpdateNorm: 1e4,
        // Plain rounds keep this test about the console (secure aggregation has its own specs).
        secureAggregation: { enabled: false },
      });

      // --- sign-in refuses anything but an admin token ----------------------------------------
      await page.goto('/admin/');
      await expect(page.getByTestId('console')).toBeHidden();
      await page.getByTestId('admin-token').fill('fa_forged-token-that-was-never-issued');
      await page.getByTestId('signin').click();
      await expect(page.getByTestId('signin-error')).toContainText('refused');
      const joinToken = (await admin.createJoinToken('e2e: client used on admin sign-in')).token;
      await page.getByTestId('admin-token').fill(joinToken);
      await page.getByTestId('signin').click();
      await expect(page.getByTestId('signin-error')).toContainText('refused');
      await expect(page.getByTestId('console')).toBeHidden();

      await page.getByTestId('admin-token').fill(app.adminToken);
      await page.getByTestId('signin').click();
      await expect(page.getByTestId('console')).toBeVisible();
      await expect(page.getByTestId('conn')).toHaveText('live');
      expect(await page.evaluate(() => sessionStorage.getItem('fedssl.adminToken'))).toBe(app.adminToken);
      // A reload keeps the session (sessionStorage) and reconnects.
      await page.reload();
      await expect(page.getByTestId('conn')).toHaveText('live');

      // --- the round config editor validates before it sends -----------------------------------
      const configArea = page.getByTestId('config-json');
      const goodConfig = await configArea.inputValue();
      await configArea.fill(goodConfig.replace('"localSteps": 2', '"localSteps": 0'));
      await page.getByTestId('save-config').click();
      await expect(page.getByTestId('config-error')).toContainText('training.localSteps');
      await configArea.fill(goodConfig);

      // --- two browser clients join; a round advances live --------------------------------------
      const startVersion = await versionOf(page);
      const clients: Page[] = [];
      for (let i = 0; i < 2; i++)
        clients.push(
          await openClient(
            browser,
            baseURL!,
            i,
            (await admin.createJoinToken(`e2e admin client ${i}`)).token,
            contexts,
          ),
        );
      await expect(page.getByTestId('phase')).toHaveText('train', { timeout: 60_000 });
      await expect(page.getByTestId('countdown')).toHaveText(/^\d+(m \d+)?s$/);
      await expect(page.getByTestId('cohort')).toHaveText('2');
      await expect.poll(() => versionOf(page), { timeout: 180_000 }).toBeGreaterThan(startVersion);
      await expect(page.locator('[data-testid="rounds-table"] tr').first()).toContainText('committed');

      // --- create a join token in the console; a third client joins with it ----------------------
      await page.getByTestId('token-label').fill('e2e console token');
      await confirmed(page, 'create-token');
      await expect(page.getByTestId('new-token')).toHaveText(/^fj_/);
      const created = (await page.getByTestId('new-token').textContent())!;
      await expect(page.getByTestId('tokens-table')).toContainText('e2e console token');
      clients.push(await openClient(browser, baseURL!, 2, created, contexts));
      await expect(page.getByTestId('connected')).toHaveText(String(CLIENTS), { timeout: 60_000 });
      await expect(page.locator('[data-testid="clients-table"] tr', { hasText: 'connected' })).toHaveCount(CLIENTS, {
        timeout: 30_000,
      });

      // --- pause (cancel first: nothing happens without confirmation) ---------------------------
      await page.getByTestId('pause').click();
      await page.getByTestId('confirm-cancel').click();
      await expect(page.getByTestId('paused-state')).toHaveText('running');
      await confirmed(page, 'pause');
      await expect(page.getByTestId('paused-state')).toHaveText('paused');
      await expect(page.getByTestId('phase')).toHaveText('idle', { timeout: 180_000 });
      expect((await admin.request<CoordinatorStatus>('GET', '/api/admin/status')).paused).toBe(true);

      // --- roll back to the parent of the current version ---------------------------------------
      const before = await versionOf(page);
      const target = before - 1;
      await confirmed(page, `rollback-${target}`);
      const rolled = before + 1;
      await expect(page.getByTestId('model-version')).toHaveText(`v${rolled}`);
      const row = page.locator(`[data-testid="versions-table"] tr[data-version="${rolled}"]`);
      await expect(row).toContainText(`rollback to v${target}`);
      await expect(row).toContainText(`v${target}`); // parent column
      const versions = await admin.request<VersionRow[]>('GET', '/api/admin/versions');
      const rolledRow = versions.find((v) => v.version === rolled)!;
      expect(rolledRow.parent).toBe(target);
      expect(rolledRow.weights_hash).toBe(versions.find((v) => v.version === target)!.weights_hash);

      // --- resume: the next round trains the rolled-back model and clients follow ----------------
      await confirmed(page, 'resume');
      await expect(page.getByTestId('paused-state')).toHaveText('running');
      await expect.poll(() => versionOf(page), { timeout: 240_000 }).toBeGreaterThan(rolled);
      const next = (await admin.request<VersionRow[]>('GET', '/api/admin/versions')).find(
        (v) => v.version === rolled + 1,
      )!;
      expect(next.parent).toBe(rolled);
      for (const c of clients) {
        await expect
          .poll(async () => Number((await c.getByTestId('fed-version').textContent())?.replace(/^v/, '')), {
            timeout: 120_000,
          })
          .toBeGreaterThan(rolled);
      }

      // --- the audit log records every control ----------------------------------------------------
      const audit = page.getByTestId('audit-table');
      for (const action of ['token.create', 'rounds.pause', 'model.rollback', 'rounds.resume'])
        await expect(audit).toContainText(action);

      // --- charts render with data (probe accuracy needs the background evaluation) -------------
      const points = (id: string) =>
        page
          .getByTestId(id)
          .getAttribute('data-points')
          .then((p) => Number(p ?? 0));
      await expect.poll(() => points('chart-loss'), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
      expect(await points('chart-participants')).toBeGreaterThanOrEqual(6);
      expect(await points('chart-duration')).toBeGreaterThanOrEqual(2);
      expect(await points('chart-bytes')).toBeGreaterThanOrEqual(4);
      await expect.poll(() => points('chart-probe'), { timeout: 240_000 }).toBeGreaterThanOrEqual(3);
      // Each version's evaluation (probe, health, drift) runs in a background worker; with the 405k default encoder
      // on a loaded 2-core VM one takes minutes, so these wait as long as the probe chart does, for two evaluated
      // versions (2 series × 2 points: a line).
      await expect.poll(() => points('chart-health'), { timeout: 240_000 }).toBeGreaterThanOrEqual(4);
      await expect.poll(() => points('chart-drift'), { timeout: 240_000 }).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#chart-loss canvas').count()).toBe(1);
      await expect(page.getByTestId('dp-text')).toContainText(/DP off|ε =/);
      await expect(page.locator('[data-testid="versions-table"] td', { hasText: /%$/ }).first()).toBeVisible();

      await admin.request('POST', '/api/admin/rounds/pause');
      await page.evaluate(() => window.scrollTo(0, 0));
      mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      await testInfo.attach('admin-console', { path: SCREENSHOT, contentType: 'image/png' });

      // --- signing out forgets the token ----------------------------------------------------------
      await page.getByTestId('signout').click();
      await expect(page.getByTestId('console')).toBeHidden();
      expect(await page.evaluate(() => sessionStorage.getItem('fedssl.adminToken'))).toBeNull();
    } finally {
      for (const c of contexts) await c.close().catch(() => undefined);
    }
  });

  test('the console signs out when the server refuses its token', async ({ page }) => {
    await page.goto('/admin/');
    await page.evaluate(() => sessionStorage.setItem('fedssl.adminToken', 'fa_expired-or-revoked-token'));
    await page.reload();
    await expect(page.getByTestId('signin-error')).toContainText('refused');
    await expect(page.getByTestId('console')).toBeHidden();
    expect(await page.evaluate(() => sessionStorage.getItem('fedssl.adminToken'))).toBeNull();
  });
});
