import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import { DEFAULT_C_GRID, runProbeProtocol } from './probe-protocol';
import { describeProbe, probeWithSetup, rawPixelFeatures, rawPixelProbe, type ProbeSetup } from './probe-baselines';

/** Seeded 8×8 "images": class k brightens its own 8-pixel row, plus noise, so pixels carry the label. */
function synthetic(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const rng = createRng(seed);
  const images = new Uint8Array(n * 64);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(4);
    labels[i] = k;
    for (let p = 0; p < 64; p++) {
      const v = 60 + 40 * rng.normal() + (Math.floor(p / 8) === k ? 50 : 0);
      images[i * 64 + p] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { images, labels };
}

const setup: ProbeSetup = { labels: 120, validation: 80, test: 100 };

describe('raw-pixel baseline with the probe protocol', () => {
  const train = synthetic(300, 1);
  const test = synthetic(150, 2);

  it('is runProbeProtocol on pixels/255 of the same rows: first labels, then validation, first test rows', () => {
    const r = rawPixelProbe(train, test, 4, setup);
    const x = rawPixelFeatures(train.images);
    const t = rawPixelFeatures(test.images);
    const direct = runProbeProtocol(
      { features: x.subarray(0, 120 * 64), labels: train.labels.subarray(0, 120) },
      { features: t.subarray(0, 100 * 64), labels: test.labels.subarray(0, 100) },
      64,
      4,
      120,
      {
        cGrid: DEFAULT_C_GRID,
        validation: { features: x.subarray(120 * 64, 200 * 64), labels: train.labels.subarray(120, 200) },
      },
    );
    expect(r).toEqual(direct);
    expect(r.trainCount).toBe(120);
    expect(r.testCount).toBe(100);
    expect(r.validation!.map((v) => v.C)).toEqual([...DEFAULT_C_GRID]);
    // Pixels carry the label here, so the baseline is far above chance (0.25).
    expect(r.testAccuracy).toBeGreaterThan(0.6);
  });

  it('is deterministic: the same data give bit-identical results, other data give others', () => {
    expect(rawPixelProbe(train, test, 4, setup)).toEqual(rawPixelProbe(train, test, 4, setup));
    const other = rawPixelProbe(synthetic(300, 3), test, 4, setup);
    expect(other.testAccuracy).not.toBe(rawPixelProbe(train, test, 4, setup).testAccuracy);
  });

  it('uses only the rows the setup names (later rows cannot change the result)', () => {
    const more = { images: new Uint8Array(train.images.length + 64 * 50), labels: new Uint8Array(350) };
    more.images.set(train.images);
    more.labels.set(train.labels);
    expect(rawPixelProbe(more, test, 4, setup)).toEqual(rawPixelProbe(train, test, 4, setup));
  });

  it('without validation rows fits the single default C', () => {
    const x = rawPixelFeatures(train.images.subarray(0, 120 * 64));
    const r = probeWithSetup(
      { features: x, labels: train.labels.subarray(0, 120) },
      { features: rawPixelFeatures(test.images), labels: test.labels },
      64,
      4,
      { labels: 120, validation: 0, test: 150 },
    );
    expect(r.C).toBe(1);
    expect(r.validation).toBeUndefined();
    expect(r.testCount).toBe(150);
  });

  it('says which protocol it is', () => {
    const d = describeProbe({ labels: 1000, validation: 1000, test: 500 });
    expect(d).toMatch(/1,000 labelled \/ 500 test images/);
    expect(d).toMatch(/logistic regression/);
    expect(d).toMatch(/C ∈ \{0\.01, 0\.1, 1\}/);
  });
});
