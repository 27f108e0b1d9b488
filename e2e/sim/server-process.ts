// The real server (`server/main.ts`) in a child process of its own, as `npm start` runs it: for e2e specs,
// the restart test and the benchmarks that measure the server's process alone.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => (port ? ok(port) : fail(new Error('no free port'))));
    });
  });
}

export interface ServerProcessOptions {
  port: number;
  dataDir: string;
  /** Further CLI flags, e.g. ['--model', 'tiny', '--round-config', file]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
}

export function spawnServer(o: ServerProcessOptions): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--port', String(o.port), '--data-dir', o.dataDir, ...(o.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...o.env }, stdio: o.stdio ?? ['ignore', 'inherit', 'inherit'] },
  );
}

/** Resolves once the server answers /api/health; rejects if the process exits first. */
export async function whenHealthy(url: string, child: ChildProcess): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `server exited before it was ready (code ${code}, signal ${signal})`));
  for (;;) {
    if (exited) throw new Error(exited);
    const ok = await fetch(`${url}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
