import { describe, expect, it } from 'vitest';
import { decodeDatasetBundle, encodeDatasetBundle } from './bundle';
import { type DatasetSplit, type ImageDataset, subset, toFloatBatch, validateDataset } from './dataset';
import { createRng } from './rng';

function randomDataset(count: number, seed: number): ImageDataset {
  const rng = createRng(seed);
  const w = 5;
  const h = 4;
  const c = 2;
  return {
    name: 'toy',
    width: w,
    height: h,
    channels: c,
    numClasses: 3,
    classNames: ['a', 'b', 'ç'],
    images: Uint8Array.from({ length: count * w * h * c }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, () => rng.int(3)),
    count,
  };
}

function toySplit(): DatasetSplit {
  return { train: randomDataset(17, 1), test: randomDataset(6, 2) };
}

describe('dataset bundle', () => {
  it('round-trips exactly', () => {
    const split = toySplit();
    const bytes = encodeDatasetBundle(split);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('FSSLDS01');
    const back = decodeDatasetBundle(bytes);
    expect(back).toEqual(split);
    // Decoded arrays own their buffers (transferable independently).
    expect(back.train.images.byteOffset).toBe(0);
    expect(back.train.images.buffer.byteLength).toBe(back.train.images.length);
  });

  it('decodes from a Uint8Array view at a non-zero offset', () => {
    const bytes = encodeDatasetBundle(toySplit());
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeDatasetBundle(padded.subarray(3))).toEqual(toySplit());
  });

  it('round-trips an empty test set', () => {
    const split = { train: randomDataset(3, 4), test: randomDataset(0, 5) };
    expect(decodeDatasetBundle(encodeDatasetBundle(split))).toEqual(split);
  });

  it('rejects corrupt magic', () => {
    const bytes = encodeDatasetBundle(toySplit());
    bytes[3] = 0x58;
    expect(() => decodeDatasetBundle(bytes)).toThrow(/magic/);
  });

  it('rejects truncated input at every stage', () => {
    const bytes = encodeDatasetBundle(toySplit());
    expect(() => decodeDatasetBundle(bytes.subarray(0, 5))).toThrow(/too short/);
    expect(() => decodeDatasetBundle(bytes.subarray(0, 20))).toThrow(/header needs/);
    expect(() => decodeDatasetBundle(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });

  it('rejects trailing bytes, huge header length and bad header JSON', () => {
    const bytes = encodeDatasetBundle(toySplit());
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeDatasetBundle(longer)).toThrow(/trailing/);

    const huge = bytes.slice();
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(() => decodeDatasetBundle(huge)).toThrow(/implausibly large/);

    const badJson = bytes.slice();
    badJson[12] = 0x7d; // '}' where '{' was
    expect(() => decodeDatasetBundle(badJson)).toThrow(/not valid JSON/);
  });

  it('rejects out-of-range labels in the payload', () => {
    const bytes = encodeDatasetBundle(toySplit());
    const bad = bytes.slice();
    bad[bad.length - 1] = 200; // last test label
    expect(() => decodeDatasetBundle(bad)).toThrow(/label 200/);
  });

  it('refuses to encode mismatched train/test or inconsistent datasets', () => {
    const split = toySplit();
    expect(() => encodeDatasetBundle({ train: split.train, test: { ...split.test, width: 4 } })).toThrow();
    expect(() => encodeDatasetBundle({ train: { ...split.train, count: 99 }, test: split.test })).toThrow(/labels|images/);
  });
});

describe('dataset helpers', () => {
  it('subset copies the chosen examples in order', () => {
    const ds = randomDataset(10, 7);
    const sub = subset(ds, [9, 2, 2]);
    const size = 5 * 4 * 2;
    expect(sub.count).toBe(3);
    expect(Array.from(sub.labels)).toEqual([ds.labels[9], ds.labels[2], ds.labels[2]]);
    expect(sub.images.subarray(0, size)).toEqual(ds.images.subarray(9 * size, 10 * size));
    expect(sub.images.subarray(size, 2 * size)).toEqual(ds.images.subarray(2 * size, 3 * size));
    validateDataset(sub);
    sub.images[0] = (sub.images[0]! + 1) % 256;
    expect(sub.images[0]).not.toBe(ds.images[9 * size]); // a copy, not a view
    expect(() => subset(ds, [10])).toThrow(/out of range/);
  });

  it('toFloatBatch scales to [0,1] and preserves NHWC order', () => {
    const ds = randomDataset(4, 8);
    const size = 5 * 4 * 2;
    const batch = toFloatBatch(ds, [3, 0]);
    expect(batch).toHaveLength(2 * size);
    for (let j = 0; j < size; j++) {
      expect(batch[j]).toBeCloseTo(ds.images[3 * size + j]! / 255, 6);
      expect(batch[size + j]).toBeCloseTo(ds.images[j]! / 255, 6);
    }
    expect(Math.max(...batch)).toBeLessThanOrEqual(1);
    expect(Math.min(...batch)).toBeGreaterThanOrEqual(0);
    expect(() => toFloatBatch(ds, [-1])).toThrow(/out of range/);
  });
});
