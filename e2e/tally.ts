/**
 * Turns each runner's JSON report into one honest tally: a test file that fails to load counts as a failure,
 * even though it has no failed test inside it, and a runner that exits non-zero without saying why counts once.
 */
export interface Tally {
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
}

interface VitestFile {
  name: string;
  status: string;
  message?: string;
  assertionResults: { status: string }[];
}
export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  testResults: VitestFile[];
}

/** Files whose status is failed but that report no failed test: they failed to load, or a hook threw. */
export function brokenVitestFiles(report: VitestReport): string[] {
  return report.testResults
    .filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'))
    .map((f) => f.name);
}

export function tallyVitest(suite: string, report: VitestReport | undefined, exitCode: number): Tally {
  if (!report) return { suite, passed: 0, failed: 1, skipped: 0 };
  const failed = report.numFailedTests + brokenVitestFiles(report).length;
  return {
    suite,
    passed: report.numPassedTests,
    failed: failed + (exitCode !== 0 && failed === 0 ? 1 : 0),
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

export interface PlaywrightReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  /** Errors outside any test: a spec file that fails to import, a global setup that throws. */
  errors?: unknown[];
}

export function tallyPlaywright(suite: string, report: PlaywrightReport | undefined, exitCode: number): Tally {
  if (!report) return { suite, passed: 0, failed: 1, skipped: 0 };
  const failed = report.stats.unexpected + (report.errors?.length ?? 0);
  return {
    suite,
    passed: report.stats.expected + report.stats.flaky,
    failed: failed + (exitCode !== 0 && failed === 0 ? 1 : 0),
    skipped: report.stats.skipped,
  };
}

export function summaryLine(tallies: Tally[]): string {
  const sum = (k: 'passed' | 'failed' | 'skipped') => tallies.reduce((a, t) => a + t[k], 0);
  return `${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`;
}
