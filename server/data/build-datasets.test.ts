import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDatasetBundle } from '../../shared/data/bundle';

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const SCRIPT = join(ROOT, 'server/data/build-datasets.ts');

function run(...args: string[]): string {
  return execFileSync(TSX, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('build-datasets CLI', () => {
  const out = mkdtempSync(join(tmpdir(), 'fedssl-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('builds both bundles, skips when up to date, rebuilds with --force', () => {
    const first = run('--out', out);
    expect(first).toMatch(/mnist: wrote [\d.]+ MB/);
    expect(first).toMatch(/fashion-mnist: wrote [\d.]+ MB/);
    const mnist = decodeDatasetBundle(readFileSync(join(out, 'mnist.bin')));
    const fashion = decodeDatasetBundle(readFileSync(join(out, 'fashion-mnist.bin')));
    expect([mnist.train.name, fashion.train.name]).toEqual(['mnist', 'fashion-mnist']);
    expect(fashion.train.count).toBe(12000);
    expect(fashion.test.count).toBe(3000);

    const mtime = statSync(join(out, 'mnist.bin')).mtimeMs;
    const second = run('--out', out);
    expect(second).toMatch(/mnist: up to date/);
    expect(second).not.toMatch(/wrote/);
    expect(statSync(join(out, 'mnist.bin')).mtimeMs).toBe(mtime);

    const before = readFileSync(join(out, 'mnist.bin'));
    const forced = run('--out', out, '--force');
    expect(forced).toMatch(/mnist: wrote/);
    expect(statSync(join(out, 'mnist.bin')).mtimeMs).toBeGreaterThan(mtime);
    // The build is deterministic: rebuilding gives byte-identical bundles.
    expect(readFileSync(join(out, 'mnist.bin')).equals(before)).toBe(true);
  });

  it('rejects unknown flags', () => {
    expect(() => execFileSync(TSX, [SCRIPT, '--bogus'], { cwd: ROOT, stdio: 'pipe' })).toThrow();
  });
});
