/**
 * `npm test`: every suite, then one "N passed, N failed" line.
 * 1. locate (or install) Chromium, 2. build datasets + web app, 3. lint, 4. native addon + Vitest, 5. Playwright.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureChromium } from './chromium';
import {
  brokenVitestFiles,
  summaryLine,
  tallyPlaywright,
  tallyVitest,
  type PlaywrightReport,
  type Tally,
  type VitestReport,
} from './tally';

const root = resolve(import.meta.dirname, '..');
const results = resolve(root, 'test-results');
const only = process.argv.slice(2); // e.g. `npm test -- unit`, `npm test -- e2e` or `npm test -- lint`
const want = (suite: string) => only.length === 0 || only.includes(suite);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

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

if (want('lint')) {
  // ESLint (typescript-eslint) and Prettier's layout check: one suite, one result.
  const code = run('npm', ['run', 'lint']);
  tallies.push({
    suite: 'lint (eslint + prettier --check)',
    passed: code === 0 ? 1 : 0,
    failed: code === 0 ? 0 : 1,
    skipped: 0,
  });
}

if (want('unit')) {
  // The server's native mask PRG (npm install builds it too; a no-op when up to date).
  run('node', ['server/native/build.mjs']);
  const file = resolve(results, 'unit.json');
  const code = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  const r = readJson<VitestReport>(file);
  if (r) for (const broken of brokenVitestFiles(r)) console.log(`FAILED TO LOAD: ${broken}`);
  tallies.push(tallyVitest('unit+integration (vitest)', r, code));
}

if (want('e2e') && !setupFailed) {
  const file = resolve(results, 'e2e.json');
  const code = run('npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts']);
  tallies.push(tallyPlaywright('browser e2e (playwright)', readJson<PlaywrightReport>(file), code));
} else if (want('e2e')) {
  tallies.push({ suite: 'browser e2e (setup)', passed: 0, failed: 1, skipped: 0 });
}

console.log('\nSummary');
for (const t of tallies) console.log(`  ${t.suite}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
const line = summaryLine(tallies);
console.log(line);
process.exit(tallies.some((t) => t.failed > 0) ? 1 : 0);
