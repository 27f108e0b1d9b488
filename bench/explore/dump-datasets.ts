/**
 * Writes the bundled datasets as raw bytes for the PyTorch mirror (simclr_mirror.py):
 * <name>-{train,test}-{x,y}.u8, the same 12,000 / 3,000 Fashion-MNIST split bench:quality uses.
 *   npx tsx bench/explore/dump-datasets.ts [dir]   (default .scratch/explore, git-ignored)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNpmDataset } from '../../server/data/npm-datasets';

const dir = process.argv[2] ?? '.scratch/explore';
mkdirSync(dir, { recursive: true });
for (const name of ['fashion-mnist', 'mnist'] as const) {
  const s = loadNpmDataset(name);
  for (const [part, ds] of [
    ['train', s.train],
    ['test', s.test],
  ] as const) {
    writeFileSync(join(dir, `${name}-${part}-x.u8`), ds.images);
    writeFileSync(join(dir, `${name}-${part}-y.u8`), ds.labels);
  }
  console.log(`${name}: ${s.train.count} train / ${s.test.count} test → ${dir}`);
}
