import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { EvaluationStateSchema } from '../../shared/protocol/admin';
import { rawPixelProbe } from '../../shared/ssl/probe-baselines';
import { withTfObjective } from '../../shared/ssl/probe-tf';
import { loadNpmDataset } from '../data/npm-datasets';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../federation/test-harness';
import type { EvaluationResult } from './evaluation';
import { RawBaselineCache, rawPixelBaseline } from './raw-baseline';

let s: TestServer | undefined;
beforeAll(async () => {
  await initWasmBackendForNode();
});
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

const cheap = {
  trainImages: 200,
  validationImages: 100,
  testImages: 100,
  referenceImages: 64,
  batchSize: 50,
};

describe('raw-pixel baseline in the admin evaluation', () => {
  it('the cache computes each dataset and setup once, and the worker-side fit equals a direct call', async () => {
    const split = loadNpmDataset('fashion-mnist', { trainPerClass: 30, testPerClass: 10 });
    const setup = { labels: 200, validation: 100, test: 100 };
    const cache = new RawBaselineCache();
    let computed = 0;
    const compute = async () => {
      computed++;
      return rawPixelBaseline(split, setup).testAccuracy;
    };
    const a = await cache.get('fashion-mnist', setup, compute);
    expect(await cache.get('fashion-mnist', setup, compute)).toBe(a);
    expect([computed, cache.size]).toEqual([1, 1]);
    const direct = withTfObjective((make) => rawPixelProbe(split.train, split.test, 10, setup, make));
    expect(a).toBe(direct.testAccuracy);
    expect([direct.trainCount, direct.testCount]).toEqual([200, 100]);
    await cache.get('fashion-mnist', { ...setup, labels: 150 }, compute);
    expect([computed, cache.size]).toEqual([2, 2]);
    // A failed computation is not cached: the next call tries again.
    await expect(cache.get('other', setup, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('other', setup, compute)).toBe(a);
  });

  it('GET /api/admin/evaluation returns the raw-pixel and random-init baselines and the protocol', async () => {
    s = await startTestServer({ manualStart: true, evaluation: cheap });
    const ev = s.adminServices.evaluation!;
    const results: EvaluationResult[] = [];
    ev.on('evaluated', (r: EvaluationResult) => results.push(r));
    await ev.whenIdle();
    await s.coordinator.rollback(0);
    await ev.whenIdle();
    const res = await fetch(`${s.url}/api/admin/evaluation`, {
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const state = EvaluationStateSchema.parse(await res.json());
    const b = state.baselines!;
    // The same images the console's probe uses: the first 300 training rows (200 labelled + 100 validation)
    // and the first 100 test rows of the split the service loaded (30 train+val and 10 test per class).
    const split = loadNpmDataset('fashion-mnist', { trainPerClass: 30, testPerClass: 10 });
    const expected = withTfObjective(
      (make) =>
        rawPixelProbe(split.train, split.test, 10, { labels: 200, validation: 100, test: 100 }, make).testAccuracy,
    );
    expect(b.raw).toBe(expected);
    expect(b.random).toBe(s.registry.getVersion(0)!.probe_random);
    expect([b.labels, b.validation, b.test]).toEqual([200, 100, 100]);
    expect(b.protocol).toMatch(/200 labelled \/ 100 test images/);
    // Every evaluated version carries the same (cached) raw baseline.
    expect(results.map((r) => r.probeRaw)).toEqual([expected, expected]);
  });
});
