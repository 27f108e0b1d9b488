import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryLine, tallyPlaywright, tallyVitest, type VitestReport } from './tally';

const vitestBin = resolve(import.meta.dirname, '../node_modules/vitest/vitest.mjs');
const dir = mkdtempSync(join(tmpdir(), 'fedssl-tally-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real Vitest on a folder of test files and returns its JSON report and exit code. */
function runVitest(files: Record<string, string>): { report: VitestReport; code: number } {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out = join(dir, 'report.json');
  const r = spawnSync(
    process.execPath,
    [vitestBin, 'run', '--root', dir, '--globals', '--reporter=json', `--outputFile=${out}`],
    {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    },
  );
  return { report: JSON.parse(readFileSync(out, 'utf8')) as VitestReport, code: r.status ?? 1 };
}

describe('the summary line counts suites that fail to load', () => {
  it('two broken files and one passing test: 1 passed, 2 failed', () => {
    const { report, code } = runVitest({
      'ok.test.ts': "it('passes', () => { expect(1 + 1).toBe(2); });\n",
      'throws-at-load.test.ts': "throw new Error('broken on purpose');\n",
      'missing-import.test.ts': "import './does-not-exist';\nit('never runs', () => {});\n",
    });
    expect(code).not.toBe(0);
    const t = tallyVitest('vitest', report, code);
    expect(t.passed).toBe(1);
    expect(t.failed).toBe(2);
    expect(summaryLine([t])).toBe('1 passed, 2 failed, 0 skipped');
  });

  it('a failing test inside a file that loads counts once, not twice', () => {
    rmSync(join(dir, 'throws-at-load.test.ts'));
    rmSync(join(dir, 'missing-import.test.ts'));
    writeFileSync(join(dir, 'fails.test.ts'), "it('fails', () => { expect(1).toBe(2); });\n");
    const { report, code } = runVitest({});
    expect(tallyVitest('vitest', report, code)).toMatchObject({ passed: 1, failed: 1 });
  });

  it('no report at all, or a non-zero exit with nothing failed, is a failure', () => {
    expect(tallyVitest('vitest', undefined, 1).failed).toBe(1);
    const empty: VitestReport = {
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 0,
      numFailedTestSuites: 0,
      testResults: [],
    };
    expect(tallyVitest('vitest', empty, 1).failed).toBe(1);
    expect(tallyVitest('vitest', empty, 0).failed).toBe(0);
  });

  it('Playwright errors outside tests (a spec that fails to import) count as failures', () => {
    const report = {
      stats: { expected: 4, unexpected: 0, flaky: 0, skipped: 0 },
      errors: [{ message: 'x' }, { message: 'y' }],
    };
    expect(tallyPlaywright('pw', report, 1)).toMatchObject({ passed: 4, failed: 2 });
  });
});
