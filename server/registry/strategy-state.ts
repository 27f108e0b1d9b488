import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** A strategy's optimiser state (FedAdam: t, m, v), as Strategy.saveState returns it. */
export type StrategyState = Record<string, Float32Array | number>;

const MAGIC = 'FSSLST01';
const HeaderSchema = z.strictObject({
  version: z.number().int().min(0),
  strategy: z.string(),
  entries: z.array(
    z.discriminatedUnion('kind', [
      z.strictObject({ name: z.string(), kind: z.literal('number'), value: z.number() }),
      z.strictObject({ name: z.string(), kind: z.literal('f32'), length: z.number().int().min(0) }),
    ]),
  ),
});

/** Binary form: magic, header length, JSON header (names, scalars, array lengths), then the float32 arrays. */
export function encodeStrategyState(version: number, strategy: string, state: StrategyState): Uint8Array {
  const arrays: Float32Array[] = [];
  const entries = Object.entries(state).map(([name, value]) => {
    if (typeof value === 'number') return { name, kind: 'number' as const, value };
    arrays.push(value);
    return { name, kind: 'f32' as const, length: value.length };
  });
  const header = Buffer.from(JSON.stringify({ version, strategy, entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([
    Buffer.from(MAGIC, 'ascii'),
    len,
    header,
    ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
  ]);
}

export function decodeStrategyState(bytes: Uint8Array): { version: number; strategy: string; state: StrategyState } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.subarray(0, 8).toString('ascii') !== MAGIC)
    throw new Error('not a FedSSL strategy-state file');
  const len = buf.readUInt32LE(8);
  const header = HeaderSchema.parse(JSON.parse(buf.subarray(12, 12 + len).toString('utf8')));
  const state: StrategyState = {};
  let offset = 12 + len;
  for (const e of header.entries) {
    if (e.kind === 'number') {
      state[e.name] = e.value;
      continue;
    }
    const end = offset + 4 * e.length;
    if (end > buf.length) throw new Error(`strategy state: ${e.name} runs past the end of the file`);
    const a = new Float32Array(e.length);
    new Uint8Array(a.buffer).set(buf.subarray(offset, end));
    state[e.name] = a;
    offset = end;
  }
  if (offset !== buf.length) throw new Error(`strategy state: ${buf.length - offset} trailing bytes`);
  return { version: header.version, strategy: header.strategy, state };
}

export function strategyStatePath(dir: string, version: number): string {
  return join(dir, `v${String(version).padStart(6, '0')}.strategy`);
}

/** Saves the state that produced `version`, atomically (tmp + fsync + rename), next to its checkpoint. */
export function writeStrategyState(dir: string, version: number, strategy: string, state: StrategyState): string {
  mkdirSync(dir, { recursive: true });
  const path = strategyStatePath(dir, version);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeStrategyState(version, strategy, state));
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  return path;
}

/** readStrategyState off the event loop (request paths such as the admin rollback). */
export async function readStrategyStateAsync(
  dir: string,
  version: number,
  strategy: string,
): Promise<StrategyState | undefined> {
  const path = strategyStatePath(dir, version);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return stateFor(decodeStrategyState(bytes), path, version, strategy);
}

function stateFor(
  saved: ReturnType<typeof decodeStrategyState>,
  path: string,
  version: number,
  strategy: string,
): StrategyState | undefined {
  if (saved.version !== version) throw new Error(`${path} holds the state of v${saved.version}, not v${version}`);
  return saved.strategy === strategy ? saved.state : undefined;
}

/** The state saved with `version` by the same strategy, or undefined (none saved, or another strategy's). */
export function readStrategyState(dir: string, version: number, strategy: string): StrategyState | undefined {
  const path = strategyStatePath(dir, version);
  if (!existsSync(path)) return undefined;
  return stateFor(decodeStrategyState(readFileSync(path)), path, version, strategy);
}
