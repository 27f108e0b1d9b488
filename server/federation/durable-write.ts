import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The file operations a durable write needs (node:fs/promises; a test may wrap them to record the order). */
export interface DurableFs {
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  open(path: string, flags: string): Promise<{ sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
}

export const nodeDurableFs: DurableFs = { mkdir, writeFile, open, rename };

async function fsyncPath(fs: DurableFs, path: string): Promise<void> {
  const fh = await fs.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` so that a crash or power loss leaves either the old file or the whole new
 * one, without blocking the event loop (libuv's thread pool does the I/O): tmp file, fsync, rename,
 * then fsync of the directory, because the rename lives in the directory's entry (POSIX).
 */
export async function writeFileDurably(path: string, data: Uint8Array, fs: DurableFs = nodeDurableFs): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await fs.writeFile(tmp, data);
  await fsyncPath(fs, tmp);
  await fs.rename(tmp, path);
  try {
    await fsyncPath(fs, dir);
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory; the file itself is synced.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM') throw err;
  }
}
