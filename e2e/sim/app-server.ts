// Starts the real server in this process, serving the built web app from a
// throw-away data directory (simulations and browser benchmarks).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ServerOverrides } from '../../server/app';

const ROOT = resolve(import.meta.dirname, '../..');

export interface LocalAppServer {
  url: string;
  dataDir: string;
  /** Stops the server and deletes its data directory. */
  close(): Promise<void>;
}

export async function startLocalAppServer(
  opts: { model?: 'default' | 'tiny'; dataDirPrefix: string },
  overrides: ServerOverrides = {},
): Promise<LocalAppServer> {
  const staticDir = join(ROOT, 'dist/client');
  if (!existsSync(join(staticDir, 'index.html')))
    throw new Error('the web app is not built: run "npm run build" first');
  // Loaded lazily: callers that target a running server never load the server code.
  const { startServer } = await import('../../server/app');
  const { loadServerConfig } = await import('../../server/config');
  const dataDir = mkdtempSync(join(tmpdir(), opts.dataDirPrefix));
  try {
    const server = await startServer(
      loadServerConfig({ port: 0, dataDir, logLevel: 'warn', staticDir, ...(opts.model ? { model: opts.model } : {}) }),
      overrides,
    );
    return {
      url: server.url,
      dataDir,
      async close() {
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
