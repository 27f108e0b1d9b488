import { test, expect } from '@playwright/test';
import { CHROMIUM_ARGS, ensureChromium } from './chromium';

// Headless Chromium here only offers a SwiftShader (software) WebGPU adapter.
test.use({ launchOptions: { executablePath: ensureChromium(), args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

test.describe('WebGPU path', () => {
  test('auto-select skips the software fallback adapter and trains on WASM', async ({ page }) => {
    await page.goto('/?model=tiny');
    await expect(page.getByTestId('start')).toBeEnabled({ timeout: 120_000 });
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('backend-reason')).toContainText(/software fallback/);
  });

  test('forced WebGPU runs one tiny training step', async ({ page }) => {
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
