import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM_ARGS, ensureChromium } from './chromium';

const port = Number(process.env.E2E_PORT ?? 4317);
const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-e2e-'));
const root = resolve(import.meta.dirname, '..');
/** Known to the specs so they can drive the admin API of the server started below. */
export const E2E_ADMIN_TOKEN = process.env.E2E_ADMIN_TOKEN ?? 'fa_e2e-admin-token-not-secret';

export default defineConfig({
  testDir: import.meta.dirname,
  testMatch: '**/*.spec.ts',
  outputDir: resolve(root, 'test-results/e2e'),
  timeout: 240_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: resolve(root, 'test-results/e2e.json') }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: { executablePath: ensureChromium(), args: CHROMIUM_ARGS },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `npx tsx server/main.ts --port ${port} --data-dir ${dataDir} --log-level warn`,
    cwd: root,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    env: { FEDSSL_ADMIN_TOKEN: E2E_ADMIN_TOKEN },
    timeout: 60_000,
  },
});
