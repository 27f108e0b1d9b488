import { freshServerForThisFile } from './fixtures/fresh-server';
import { test, expect, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, ensureChromium } from './chromium';

// Headless Chromium without a GPU offers only a SwiftShader (software) WebGPU adapter; with a GPU, a real one.
// Each test asks the page which kind it has and asserts what the app must do for that kind.
test.use({ launchOptions: { executablePath: ensureChromium(), args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

type AdapterKind = 'none' | 'software' | 'hardware';

/** The kind of WebGPU adapter this browser offers, by the same rule as client/src/backend.ts. */
async function adapterKind(page: Page): Promise<AdapterKind> {
  return page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = (await gpu?.requestAdapter().catch(() => null)) as
      | {
          isFallbackAdapter?: boolean;
          info?: { architecture?: string; description?: string; isFallbackAdapter?: boolean };
        }
      | null
      | undefined;
    if (!adapter) return 'none';
    const info = adapter.info ?? {};
    const software =
      adapter.isFallbackAdapter === true ||
      info.isFallbackAdapter === true ||
      /swiftshader/i.test(`${info.architecture ?? ''} ${info.description ?? ''}`);
    return software ? 'software' : 'hardware';
  });
}

freshServerForThisFile();

test.describe('WebGPU path', () => {
  test('auto-select trains on a hardware adapter and skips a software or missing one for WASM', async ({ page }) => {
    await page.goto('/?model=tiny');
    await expect(page.getByTestId('start')).toBeEnabled({ timeout: 120_000 });
    const kind = await adapterKind(page);
    console.log(`WebGPU adapter kind here: ${kind}`);
    const expected = {
      hardware: { backend: 'webgpu', reason: /WebGPU adapter/ },
      software: { backend: 'wasm', reason: /software fallback.*using WASM/ },
      none: { backend: 'wasm', reason: /no WebGPU adapter.*using WASM/ },
    }[kind];
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', expected.backend);
    await expect(page.getByTestId('backend-reason')).toContainText(expected.reason);
  });

  test('forced WebGPU runs one tiny training step wherever an adapter exists', async ({ page }) => {
    await page.goto('/?model=tiny');
    const kind = await adapterKind(page);
    test.skip(kind === 'none', 'this browser offers no WebGPU adapter at all, not even a software one');
    await page.goto('/?backend=webgpu&model=tiny&steps=1');
    await expect(page.getByTestId('start')).toBeEnabled({ timeout: 120_000 });
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu');
    await page.locator('#batch').fill('4');
    await page.getByTestId('start').click();
    await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'stopped', { timeout: 200_000 });
    await expect(page.getByTestId('step')).toHaveText('1');
    const loss = Number(await page.getByTestId('loss').textContent());
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(0);
  });
});
