import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDatasetBundle } from '../../shared/data/bundle';
import type { ImageDataset } from '../../shared/data/dataset';
import { labelHistogram } from '../../shared/data/splits';
import { scanPixelRows, TruncatedJsonError } from './json-pixels';
import {
  bundleFileName,
  classCounts,
  datasetSourceFiles,
  loadCachedBundle,
  loadNpmDataset,
  readPixelRows,
} from './npm-datasets';

const SIZE = 784;

function allIndices(ds: ImageDataset): number[] {
  return Array.from({ length: ds.count }, (_, i) => i);
}

function classMeans(ds: ImageDataset): Float64Array[] {
  const means = Array.from({ length: ds.numClasses }, () => new Float64Array(SIZE));
  const hist = labelHistogram(ds.labels, allIndices(ds), ds.numClasses);
  for (let i = 0; i < ds.count; i++) {
    const m = means[ds.labels[i]!]!;
    for (let j = 0; j < SIZE; j++) m[j]! += ds.images[i * SIZE + j]! / 255;
  }
  means.forEach((m, c) => m.forEach((v, j) => (m[j] = v / hist[c]!)));
  return means;
}

function l2(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
}

/** Image bytes as strings, to compare sets of images regardless of order. */
function imageKeys(ds: ImageDataset, label: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < ds.count; i++) {
    if (ds.labels[i] === label) keys.push(ds.images.subarray(i * SIZE, (i + 1) * SIZE).join(','));
  }
  return keys.sort();
}

/** Independent reference: full JSON.parse of a class file, malformed rows dropped. */
function referenceRows(file: string, scale: number): number[][] {
  const data = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] | number[][] }).data;
  const rows = Array.isArray(data[0])
    ? (data as number[][]).filter((r) => r.length === SIZE)
    : Array.from({ length: Math.floor(data.length / SIZE) }, (_, i) => (data as number[]).slice(i * SIZE, (i + 1) * SIZE));
  return rows.map((r) => r.map((v) => Math.min(255, Math.max(0, Math.round(v * scale)))));
}

function checkBasics(ds: ImageDataset, count: number): void {
  expect(ds.count).toBe(count);
  expect(ds.images).toHaveLength(count * SIZE);
  expect([ds.width, ds.height, ds.channels, ds.numClasses]).toEqual([28, 28, 1, 10]);
  // Not sorted by class: the first 20 labels are not all equal and labels change often.
  let changes = 0;
  for (let i = 1; i < ds.count; i++) if (ds.labels[i] !== ds.labels[i - 1]) changes++;
  expect(changes).toBeGreaterThan(ds.count / 2);
}

describe('scanPixelRows', () => {
  it('matches JSON.parse on a flat (mnist) and a nested (fashion) file, skipping empty rows', () => {
    const mnistFile = datasetSourceFiles('mnist')[5]!;
    const fashionFile = datasetSourceFiles('fashion-mnist')[0]!; // has two empty rows
    for (const [file, scale] of [
      [mnistFile, 255],
      [fashionFile, 1],
    ] as const) {
      const ref = referenceRows(file, scale);
      const got = scanPixelRows(readFileSync(file), SIZE, Number.POSITIVE_INFINITY, scale);
      expect(got.rows).toBe(ref.length);
      // Buffer.equals: toEqual on millions of elements takes seconds.
      expect(Buffer.from(got.pixels).equals(Buffer.from(Uint8Array.from(ref.flat())))).toBe(true);
    }
    const fashion = scanPixelRows(readFileSync(fashionFile), SIZE, Number.POSITIVE_INFINITY, 1);
    expect(fashion.skippedRows).toBe(2);
    expect(fashion.rows).toBe(7000);
  });

  it('stops after maxRows and parses decimals / exponents', () => {
    const text = '{"data": [[0, 0.5, 1e0], [], [0.25, 1, 2.5e-1], [1, 1, 1]]}';
    const got = scanPixelRows(new TextEncoder().encode(text), 3, 2, 100);
    expect(got.rows).toBe(2);
    expect(got.skippedRows).toBe(1);
    expect(Array.from(got.pixels)).toEqual([0, 50, 100, 25, 100, 25]);
  });

  it('reports truncation (including a number cut at the end) as TruncatedJsonError', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(() => scanPixelRows(enc('{"data":[1,2'), 2, 1, 1)).toThrow(TruncatedJsonError);
    expect(() => scanPixelRows(enc('{"data":[[1,2],[3'), 2, 2, 1)).toThrow(TruncatedJsonError);
    expect(() => scanPixelRows(enc('{"data":[[1,2],'), 2, 2, 1)).toThrow(TruncatedJsonError);
    expect(scanPixelRows(enc('{"data":[[1,2],[3'), 2, 1, 1).rows).toBe(1); // enough rows before the cut
  });

  it('readPixelRows reads a prefix that matches a full scan', () => {
    const file = datasetSourceFiles('fashion-mnist')[0]!;
    const full = scanPixelRows(readFileSync(file), SIZE, Number.POSITIVE_INFINITY, 1);
    for (const n of [1, 999, 1001, 3000]) {
      const part = readPixelRows(file, SIZE, n, 1);
      expect(part.rows).toBe(n);
      expect(Buffer.from(part.pixels).equals(Buffer.from(full.pixels.subarray(0, n * SIZE)))).toBe(true);
    }
    expect(readPixelRows(file, SIZE, 1e9, 1).rows).toBe(7000);
  });

  it('clamps to 0..255 and rejects malformed input', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(Array.from(scanPixelRows(enc('{"data":[-3,300,7,8]}'), 2, 10, 1).pixels)).toEqual([0, 255, 7, 8]);
    expect(() => scanPixelRows(enc('{"pixels":[1]}'), 1, 1, 1)).toThrow(/no "data"/);
    expect(() => scanPixelRows(enc('{"data":[1,x]}'), 1, 5, 1)).toThrow(/expected a number/);
    expect(() => scanPixelRows(enc('{"data":[[1,2'), 2, 5, 1)).toThrow(/truncated/);
    expect(() => scanPixelRows(enc('{"data":[1,2] }'), 2, 5, 1)).not.toThrow();
  });
});

describe('loadNpmDataset', () => {
  it('loads a small fashion-mnist split that matches the package JSON', () => {
    const t0 = performance.now();
    const { train, test } = loadNpmDataset('fashion-mnist', { trainPerClass: 30, testPerClass: 10 });
    const ms = performance.now() - t0;
    console.log(`fashion-mnist 30/10 per class loaded in ${ms.toFixed(0)} ms`);
    checkBasics(train, 300);
    checkBasics(test, 100);
    expect(labelHistogram(train.labels, allIndices(train), 10)).toEqual(new Array(10).fill(30));
    expect(labelHistogram(test.labels, allIndices(test), 10)).toEqual(new Array(10).fill(10));
    expect(train.classNames[9]).toBe('Ankle boot');
    // Train = first 30 valid images of each class, test = the next 10.
    for (const c of [0, 7]) {
      const ref = referenceRows(datasetSourceFiles('fashion-mnist')[c]!, 1);
      expect(imageKeys(train, c)).toEqual(ref.slice(0, 30).map((r) => r.join(',')).sort());
      expect(imageKeys(test, c)).toEqual(ref.slice(30, 40).map((r) => r.join(',')).sort());
    }
  });

  it('loads a small mnist split with floats mapped to 0..255', () => {
    const { train, test } = loadNpmDataset('mnist', { trainPerClass: 40, testPerClass: 10 });
    checkBasics(train, 400);
    checkBasics(test, 100);
    expect(train.images.reduce((m, v) => Math.max(m, v), 0)).toBe(255);
    expect(train.images.reduce((m, v) => Math.min(m, v), 255)).toBe(0);
    // MNIST digits are mostly background: mean intensity ~0.13.
    const mean = train.images.reduce((s, v) => s + v, 0) / train.images.length / 255;
    expect(mean).toBeGreaterThan(0.08);
    expect(mean).toBeLessThan(0.2);
    const ref = referenceRows(datasetSourceFiles('mnist')[3]!, 255);
    expect(imageKeys(train, 3)).toEqual(ref.slice(0, 40).map((r) => r.join(',')).sort());
  });

  it('class means differ clearly between classes, and the load is deterministic', () => {
    for (const name of ['mnist', 'fashion-mnist'] as const) {
      const a = loadNpmDataset(name, { trainPerClass: 50, testPerClass: 0 });
      const means = classMeans(a.train);
      for (let c = 0; c < 10; c++) {
        for (let d = c + 1; d < 10; d++) expect(l2(means[c]!, means[d]!)).toBeGreaterThan(1);
      }
      expect(a.test.count).toBe(0);
      const b = loadNpmDataset(name, { trainPerClass: 50, testPerClass: 0 });
      expect(Buffer.from(b.train.labels).equals(Buffer.from(a.train.labels))).toBe(true);
      expect(Buffer.from(b.train.images).equals(Buffer.from(a.train.images))).toBe(true);
    }
  });

  it('full default loads: mnist shrinks short classes proportionally; fashion is balanced', () => {
    let t0 = performance.now();
    const mnist = loadNpmDataset('mnist');
    const mnistMs = performance.now() - t0;
    const trainHist = labelHistogram(mnist.train.labels, allIndices(mnist.train), 10);
    const testHist = labelHistogram(mnist.test.labels, allIndices(mnist.test), 10);
    // Digit 5 has only 863 images in the package.
    expect(trainHist[5]! + testHist[5]!).toBe(863);
    expect(testHist[5]).toBe(classCounts(863, 850, 150).test);
    expect(trainHist[0]).toBe(850);
    expect(testHist[0]).toBe(150);

    t0 = performance.now();
    const fashion = loadNpmDataset('fashion-mnist');
    const fashionMs = performance.now() - t0;
    expect(fashion.train.count).toBe(12000);
    expect(fashion.test.count).toBe(3000);
    expect(labelHistogram(fashion.train.labels, allIndices(fashion.train), 10)).toEqual(new Array(10).fill(1200));
    console.log(`default loads: mnist ${mnistMs.toFixed(0)} ms, fashion-mnist ${fashionMs.toFixed(0)} ms`);
  });

  it('validates options', () => {
    expect(() => loadNpmDataset('mnist', { trainPerClass: -1 })).toThrow(/trainPerClass/);
    expect(() => loadNpmDataset('mnist', { testPerClass: 1.5 })).toThrow(/testPerClass/);
  });
});

describe('classCounts', () => {
  it('keeps requested counts when enough images exist, else scales both', () => {
    expect(classCounts(1000, 850, 150)).toEqual({ train: 850, test: 150 });
    expect(classCounts(863, 850, 150)).toEqual({ train: 734, test: 129 });
    expect(classCounts(10, 0, 5)).toEqual({ train: 0, test: 5 });
    expect(classCounts(4, 6, 2)).toEqual({ train: 3, test: 1 });
  });
});

describe('loadCachedBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedssl-ds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds and writes the bundle once, then reads it back; rebuilds a corrupt cache', () => {
    const opts = { trainPerClass: 12, testPerClass: 3 };
    const file = join(dir, bundleFileName('fashion-mnist', opts));
    expect(file.endsWith('fashion-mnist-12-3.bin')).toBe(true);
    expect(bundleFileName('fashion-mnist')).toBe('fashion-mnist.bin');

    const first = loadCachedBundle('fashion-mnist', dir, opts);
    const mtime = statSync(file).mtimeMs;
    expect(decodeDatasetBundle(readFileSync(file))).toEqual(first);
    const second = loadCachedBundle('fashion-mnist', dir, opts);
    expect(second).toEqual(first);
    expect(statSync(file).mtimeMs).toBe(mtime); // served from cache, not rewritten

    writeFileSync(file, 'garbage');
    const third = loadCachedBundle('fashion-mnist', dir, opts);
    expect(third).toEqual(first);
    expect(decodeDatasetBundle(readFileSync(file))).toEqual(first);
  });
});
