import {
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  openSync,
  fsyncSync,
  closeSync,
  readdirSync,
  rmSync,
  existsSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { weightsHash } from '../../shared/model/weights-hash';
import type { WeightLayout } from '../../shared/model/weights';

const MAGIC = 'FSSLCK01';
const TMP_MARK = '.tmp-';

export interface Checkpoint {
  version: number;
  layout: WeightLayout;
  weights: Float32Array;
}

export { weightsHash };

/** fsync a directory so a rename in it survives a power loss (POSIX: the entry lives in the directory). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync directories; the file itself is already synced.
    if ((err as NodeJS.ErrnoException).code !== 'EISDIR' && (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function checkpointPath(dir: string, version: number): string {
  return join(dir, `v${String(version).padStart(6, '0')}.ckpt`);
}

/** The file's bytes: magic, header length, JSON header (version, layout), float32 weights (a copy). */
export function encodeCheckpoint(ckpt: Checkpoint): Buffer {
  const header = Buffer.from(JSON.stringify({ version: ckpt.version, layout: ckpt.layout }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = Buffer.from(ckpt.weights.buffer, ckpt.weights.byteOffset, ckpt.weights.byteLength);
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), len, header, body]);
}

/**
 * Writes a checkpoint atomically (tmp file + fsync + rename + directory fsync) so a crash never leaves half a
 * file. Synchronous (start-up, admin rollback); rounds commit with VersionStore's asynchronous path.
 */
export function writeCheckpoint(dir: string, ckpt: Checkpoint): { path: string; hash: string } {
  mkdirSync(dir, { recursive: true });
  const path = checkpointPath(dir, ckpt.version);
  const tmp = `${path}${TMP_MARK}${process.pid}`;
  writeFileSync(tmp, encodeCheckpoint(ckpt));
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
  return { path, hash: weightsHash(ckpt.weights) };
}

/** Removes temp files a crash left between write and rename; returns their names. */
export function cleanTempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stale = readdirSync(dir).filter((f) => f.includes(TMP_MARK));
  for (const f of stale) rmSync(join(dir, f), { force: true });
  return stale;
}

function parseCheckpoint(buf: Buffer, path: string): Checkpoint {
  if (buf.length < 12 || buf.subarray(0, 8).toString('ascii') !== MAGIC)
    throw new Error(`${path} is not a FedSSL checkpoint`);
  const len = buf.readUInt32LE(8);
  const meta = JSON.parse(buf.subarray(12, 12 + len).toString('utf8')) as { version: number; layout: WeightLayout };
  const raw = buf.subarray(12 + len);
  if (raw.length !== meta.layout.totalSize * 4) {
    throw new Error(`${path}: ${raw.length} weight bytes, layout needs ${meta.layout.totalSize * 4}`);
  }
  const weights = new Float32Array(meta.layout.totalSize);
  new Uint8Array(weights.buffer).set(raw);
  return { version: meta.version, layout: meta.layout, weights };
}

export function readCheckpoint(path: string, expectedHash?: string): Checkpoint {
  const ckpt = parseCheckpoint(readFileSync(path), path);
  if (expectedHash && weightsHash(ckpt.weights) !== expectedHash)
    throw new Error(`${path}: checksum mismatch (corrupt checkpoint)`);
  return ckpt;
}

/** Same hash as weightsHash (SHA-256 of the float32 bytes, 32 hex chars), with node's native SHA-256. */
export function nativeWeightsHash(weights: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength))
    .digest('hex')
    .slice(0, 32);
}

/** Asynchronous read for request paths: the file I/O leaves the event loop free; the hash is native. */
export async function readCheckpointAsync(path: string, expectedHash?: string): Promise<Checkpoint> {
  const ckpt = parseCheckpoint(await readFile(path), path);
  if (expectedHash && nativeWeightsHash(ckpt.weights) !== expectedHash)
    throw new Error(`${path}: checksum mismatch (corrupt checkpoint)`);
  return ckpt;
}
