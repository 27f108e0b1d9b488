import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from './registry';

// The removed set is answered from memory; SQLite stays the record it is loaded from.
describe('removed clients', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('answers which ids are removed, follows re-admission, and survives a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedssl-removed-'));
    dirs.push(dir);
    let reg = new Registry(dir);
    for (const id of ['a', 'b', 'c']) reg.clientSeen({ id });
    expect(reg.setClientRemoved('b', true)).toBe(true);
    expect(reg.setClientRemoved('c', true)).toBe(true);
    expect(reg.setClientRemoved('ghost', true)).toBe(false); // unknown ids are not recorded
    expect(reg.removedClients(['a', 'b', 'c', 'ghost'])).toEqual(new Set(['b', 'c']));
    expect(reg.setClientRemoved('c', false)).toBe(true);
    expect(reg.removedClients(['a', 'b', 'c'])).toEqual(new Set(['b']));
    reg.close();

    reg = new Registry(dir);
    expect(reg.removedClients(['a', 'b', 'c', 'ghost'])).toEqual(new Set(['b']));
    expect(reg.listClients().find((c) => c.id === 'b')?.removed).toBe(1);
    reg.close();
  });
});
