import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeEpsilon, solveMaxSteps, solveNoiseMultiplier } from '../../shared/privacy/rdp';

const root = resolve(import.meta.dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');
const cli = resolve(root, 'server/cli/privacy.ts');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function field(stdout: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(stdout);
  if (!m) throw new Error(`no "${name}" line in output:\n${stdout}`);
  return Number(m[1]);
}

describe('privacy CLI', () => {
  it('prints ε and the best order, matching the library', () => {
    const r = run('--q', '0.01', '--noise', '1.1', '--rounds', '1000', '--delta', '1e-5');
    expect(r.code, r.stderr).toBe(0);
    const want = computeEpsilon(0.01, 1.1, 1000, 1e-5);
    expect(field(r.stdout, 'epsilon')).toBe(want.epsilon);
    expect(field(r.stdout, 'best order')).toBe(want.bestOrder);
  });

  it('solves for the noise multiplier with --target-epsilon', () => {
    const r = run('--q', '0.01', '--rounds', '1000', '--delta', '1e-5', '--target-epsilon', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { noiseMultiplier: number; epsilon: number; solvedFor: string };
    const want = solveNoiseMultiplier({ targetEpsilon: 3, q: 0.01, steps: 1000, delta: 1e-5 });
    expect(out.solvedFor).toBe('noise');
    expect(out.noiseMultiplier).toBe(want.noiseMultiplier);
    expect(out.epsilon).toBeLessThanOrEqual(3);
  });

  it('solves for the number of rounds with --target-epsilon', () => {
    const r = run('--q', '0.01', '--noise', '1.1', '--delta', '1e-5', '--target-epsilon', '3');
    expect(r.code, r.stderr).toBe(0);
    const want = solveMaxSteps({ targetEpsilon: 3, q: 0.01, noiseMultiplier: 1.1, delta: 1e-5 });
    expect(field(r.stdout, 'rounds')).toBe(want.steps);
    expect(field(r.stdout, 'epsilon')).toBeLessThanOrEqual(3);
  });

  it('fails clearly on bad or missing arguments', () => {
    const cases: [string[], RegExp][] = [
      [['--q', '0.01', '--noise', '1.1', '--rounds', '10'], /--delta.*not specified/],
      [['--q', 'abc', '--noise', '1.1', '--rounds', '10', '--delta', '1e-5'], /--q must be a number in \(0, 1\]/],
      [['--q', '0.01', '--noise', '-1', '--rounds', '10', '--delta', '1e-5'], /--noise must be a positive number/],
      [['--q', '0.01', '--noise', '1', '--rounds', '2.5', '--delta', '1e-5'], /--rounds must be a positive integer/],
      [['--q', '0.01', '--noise', '1', '--delta', '1e-5'], /both --noise and --rounds are required/],
      [['--q', '0.01', '--delta', '1e-5', '--target-epsilon', '1'], /omit exactly one of --noise/],
      [
        ['--q', '0.01', '--noise', '1', '--rounds', '5', '--delta', '1e-5', '--target-epsilon', '1'],
        /omit exactly one of --noise/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = run(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });
});
