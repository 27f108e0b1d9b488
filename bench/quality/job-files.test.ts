import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jobFiles, type JobFileSettings } from './job-files';

// A full run's settings, as the README's full-budget table was measured.
const full: JobFileSettings = {
  model: 'default',
  budget: 256_000,
  labels: 10_000,
  lowLabels: 1_000,
  clients: 10,
  localSteps: 10,
  clientBatch: 32,
  dropout: 0.3,
  dpNoiseMultiplier: 1,
  curveProbes: 3,
};
const saved = (dir: string, name: string) => existsSync(new URL(`../results/${dir}/${name}`, import.meta.url));

describe('bench:quality job file names', () => {
  it('still name the committed jobs, so --report-only and resumed runs find them', () => {
    const n = jobFiles(full);
    for (const arm of ['raw', 'random', 'central', 'supervised', 'fed-dir'] as const)
      expect(saved('quality-full', `${arm}-seed1-${n.tagOf(arm)}.json`), arm).toBe(true);
    expect(saved('quality-full', n.summary)).toBe(true);
    const compact = jobFiles({ ...full, model: 'compact', clientBatch: 128 });
    expect(saved('quality-compact', `fed-dir-seed1-${compact.tagOf('fed-dir')}.json`)).toBe(true);
    expect(saved('quality-compact', `random-seed1-${compact.tagOf('random')}.json`)).toBe(true);
  });

  it('give a centralized batch of its own its own jobs and summary, and nothing else', () => {
    const recipe = jobFiles(full);
    const own = jobFiles({ ...full, centralBatch: 64 });
    expect(own.tagOf('central')).toBe(`${recipe.tagOf('central')}-cb64`);
    expect(saved('quality-full', `central-seed1-${own.tagOf('central')}.json`)).toBe(true);
    expect(own.summary).not.toBe(recipe.summary);
    for (const arm of ['raw', 'random', 'supervised', 'fed-dir', 'fed-iid'] as const)
      expect(own.tagOf(arm), arm).toBe(recipe.tagOf(arm));
    // The recipe's own batch spelled out is the recipe's run.
    expect(jobFiles({ ...full, centralBatch: 256 })).toEqual(expect.objectContaining({ summary: recipe.summary }));
    expect(jobFiles({ ...full, centralBatch: 256 }).tagOf('central')).toBe(recipe.tagOf('central'));
  });

  it('tell apart every setting a trained job depends on', () => {
    const base = jobFiles(full).tagOf('fed-dir');
    const changes: Partial<JobFileSettings>[] = [
      { budget: 25_600 },
      { labels: 5_000 },
      { lowLabels: 500 },
      { clients: 20 },
      { localSteps: 5 },
      { clientBatch: 64 },
      { dropout: 0 },
      { dpNoiseMultiplier: 2 },
      { curveProbes: 0 },
      { model: 'compact' },
    ];
    for (const c of changes) expect(jobFiles({ ...full, ...c }).tagOf('fed-dir'), JSON.stringify(c)).not.toBe(base);
  });
});
