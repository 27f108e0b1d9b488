#!/usr/bin/env node
/**
 * Builds the native mask PRG (mask-prg.c) into build/mask-prg.node with the host's C compiler and
 * node's own headers; run by `npm install` (postinstall) and `npm test`. Skips when the build is
 * up to date. Never fails the install: without a compiler or headers the server falls back to
 * node:crypto (same bytes, about 2× slower unmask) and says so at start-up.
 * Usage: node server/native/build.mjs [--force]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'mask-prg.c');
const outDir = join(here, 'build');
const out = join(outDir, 'mask-prg.node');
const stamp = join(outDir, 'mask-prg.stamp');
const include = resolve(dirname(process.execPath), '..', 'include', 'node');
const cc = process.env.CC || 'cc';
const args = ['-O3', '-std=c11', '-shared', '-fPIC', '-Wall', '-Werror', `-I${include}`, source];
// node resolves the addon's N-API and OpenSSL symbols from its own binary when it loads it.
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');

// The build depends on the source, the flags and the node it links against.
const key = createHash('sha256')
  .update(readFileSync(source))
  .update(JSON.stringify([cc, args, process.version, process.versions.openssl]))
  .digest('hex');

function skip(why) {
  console.warn(`native mask PRG not built: ${why}. The server unmasks with node:crypto instead (same result, slower).`);
  process.exit(0);
}

if (!process.argv.includes('--force') && existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) {
  console.log(`native mask PRG up to date: ${out}`);
  process.exit(0);
}
if (process.platform === 'win32') skip('no build recipe for Windows');
if (!existsSync(join(include, 'node_api.h')) || !existsSync(join(include, 'openssl', 'evp.h')))
  skip(`node's headers are not at ${include}`);
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const r = spawnSync(cc, [...args, '-o', tmp], { encoding: 'utf8' });
if (r.error || r.status !== 0) {
  rmSync(tmp, { force: true });
  skip(r.error ? `${cc}: ${r.error.message}` : `${cc} failed:\n${r.stderr}`);
}
renameSync(tmp, out);
writeFileSync(stamp, key);
console.log(`native mask PRG built: ${out}`);
