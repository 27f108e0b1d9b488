/**
 * `npm test`: every suite, then one "N passed, N failed" line.
 * 1. locate (or install) Chromium, 2. build datasets + web app, 3. Vitest, 4. Playwright.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureChromium } from './chromium';

const root = resolve(import.meta.dirname, '..');
const results = resolve(root, 'test-results');
const only = process.argv.slice(2); // e.g. `npm test -- unit` or `npm test -- e2e`
const want = (suite: string) => only.length === 0 || only.includes(suite);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

interface Tally { suite: string; passed: number; failed: number; skipped: number }
const tallies: Tally[] = [];

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

let setupFailed = false;
try {
  console.log(`Chromium: ${ensureChromium()}`);
} catch (err) {
  console.error(String(err instanceof Error ? err.message : err));
  setupFailed = want('e2e');
}
if (want('e2e') && run('npm', ['run', 'build']) !== 0) setupFailed = true;

if (want('unit')) {
  const file = resolve(results, 'unit.json');
  const code = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  const r = readJson<{ numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }>(file);
  tallies.push(
    r
      ? { suite: 'unit+integration (vitest)', passed: r.numPassedTests, failed: r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0), skipped: r.numPendingTests + r.numTodoTests }
      : { suite: 'unit+integration (vitest)', passed: 0, failed: 1, skipped: 0 },
  );
}

if (want('e2e') && !setupFailed) {
  const file = resolve(results, 'e2e.json');
  const code = run('npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts']);
  const r = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(file);
  tallies.push(
    r
      ? { suite: 'browser e2e (playwright)', passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected + (code !== 0 && r.stats.unexpected === 0 ? 1 : 0), skipped: r.stats.skipped }
      : { suite: 'browser e2e (playwright)', passed: 0, failed: 1, skipped: 0 },
  );
} else if (want('e2e')) {
  tallies.push({ suite: 'browser e2e (setup)', passed: 0, failed: 1, skipped: 0 });
}

console.log('\nSummary');
for (const t of tallies) console.log(`  ${t.suite}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
const passed = tallies.reduce((a, t) => a + t.passed, 0);
const failed = tallies.reduce((a, t) => a + t.failed, 0);
const skipped = tallies.reduce((a, t) => a + t.skipped, 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
