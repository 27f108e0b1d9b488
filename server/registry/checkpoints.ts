import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { weightsHash } from '../../shared/model/weights-hash';
import type { WeightLayout } from '../../shared/model/weights';

const MAGIC = 'FSSLCK01';

export interface Checkpoint {
  version: number;
  layout: WeightLayout;
  weights: Float32Array;
}

export { weightsHash };

/** Writes a checkpoint atomically (tmp file + fsync + rename) so a crash never leaves half a file. */
export function writeCheckpoint(dir: string, ckpt: Checkpoint): { path: string; hash: string } {
  mkdirSync(dir, { recursive: true });
  const header = Buffer.from(JSON.stringify({ version: ckpt.version, layout: ckpt.layout }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = Buffer.from(ckpt.weights.buffer, ckpt.weights.byteOffset, ckpt.weights.byteLength);
  const path = join(dir, `v${String(ckpt.version).padStart(6, '0')}.ckpt`);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC, 'ascii'), len, header, body]));
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  return { path, hash: weightsHash(ckpt.weights) };
}

export function readCheckpoint(path: string, expectedHash?: string): Checkpoint {
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.subarray(0, 8).toString('ascii') !== MAGIC) throw new Error(`${path} is not a FedSSL checkpoint`);
  const len = buf.readUInt32LE(8);
  const meta = JSON.parse(buf.subarray(12, 12 + len).toString('utf8')) as { version: number; layout: WeightLayout };
  const raw = buf.subarray(12 + len);
  if (raw.length !== meta.layout.totalSize * 4) {
    throw new Error(`${path}: ${raw.length} weight bytes, layout needs ${meta.layout.totalSize * 4}`);
  }
  const weights = new Float32Array(meta.layout.totalSize);
  new Uint8Array(weights.buffer).set(raw);
  if (expectedHash && weightsHash(weights) !== expectedHash) throw new Error(`${path}: checksum mismatch (corrupt checkpoint)`);
  return { version: meta.version, layout: meta.layout, weights };
}
