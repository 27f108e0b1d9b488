import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeAll } from 'vitest';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { NodeFederatedClient, type NodeClientOptions } from './node-client';
import { TINY_MODEL_CONFIG } from '../../shared/model/config';
import { startServer, type RunningServer, type ServerOverrides } from '../app';
import { loadServerConfig, type ServerConfig } from '../config';
import { loadNpmDataset } from '../data/npm-datasets';
import { subset, type DatasetSplit, type ImageDataset } from '../../shared/data/dataset';
import { partition } from '../../shared/data/splits';

export const TEST_ADMIN_TOKEN = 'fa_test-admin-token-0123456789';

/** A real server (HTTP + socket.io + SQLite) on an ephemeral port, in a temp data dir. */
export async function startTestServer(
  overrides: ServerOverrides = {},
  flags: { dataDir?: string; openEnrollment?: boolean; keepCheckpoints?: number; model?: ServerConfig['model'] } = {},
): Promise<RunningServer & { dataDir: string; cleanup(): Promise<void> }> {
  const dataDir = flags.dataDir ?? mkdtempSync(join(tmpdir(), 'fedssl-test-'));
  const cfg = loadServerConfig(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      model: flags.model ?? 'tiny',
      logLevel: 'silent',
      openEnrollment: flags.openEnrollment ?? false,
      ...(flags.keepCheckpoints ? { keepCheckpoints: flags.keepCheckpoints } : {}),
    },
    {},
  );
  const server = await startServer(cfg, {
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    // Background model evaluation is off unless a test asks for it.
    evaluation: false,
    ...overrides,
  });
  return {
    ...server,
    dataDir,
    async cleanup() {
      await server.close();
      if (!flags.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let cached: DatasetSplit | undefined;
/** A small real Fashion-MNIST split (30 train / 10 test images per class). */
export function smallFashion(): DatasetSplit {
  cached ??= loadNpmDataset('fashion-mnist', { trainPerClass: 30, testPerClass: 10 });
  return cached;
}

/** Per-client shards of the small training set. */
export function clientShards(n: number, spec = 'iid', seed = 1): ImageDataset[] {
  const train = smallFashion().train;
  return partition(train.labels, n, spec, seed).map((idx) => subset(train, idx));
}

/** Polls `cond` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/**
 * Suite lifecycle for federation tests: the WASM backend before all tests, and after
 * each one every registered client closed and every registered server cleaned up.
 */
export function federationFixture(): { servers: TestServer[]; clients: NodeFederatedClient[] } {
  const servers: TestServer[] = [];
  const clients: NodeFederatedClient[] = [];
  beforeAll(async () => {
    await initWasmBackendForNode();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.cleanup();
  });
  return { servers, clients };
}

/**
 * `n` protocol-level clients of the tiny model on `clientShards(n, split, seed)`, each with its own join token
 * and the id `${prefix}-${i}-client`, added to `into` (a fixture's list, closed after each test); `extra(i)`
 * overrides options per client (a trainOverride, fault hooks).
 */
export function joinClients(
  s: TestServer,
  into: NodeFederatedClient[],
  opts: {
    n: number;
    prefix: string;
    /** Another id scheme than `${prefix}-${i}-client`. */
    clientId?: (i: number) => string;
    split?: string;
    seed?: number;
    extra?: (i: number) => Partial<NodeClientOptions>;
  },
): NodeFederatedClient[] {
  const made = clientShards(opts.n, opts.split ?? 'iid', opts.seed ?? 1).map(
    (data, i) =>
      new NodeFederatedClient({
        url: s.url,
        token: s.registry.createToken('client').token,
        clientId: opts.clientId?.(i) ?? `${opts.prefix}-${i}-client`,
        modelConfig: TINY_MODEL_CONFIG,
        data,
        ...opts.extra?.(i),
      }),
  );
  into.push(...made);
  return made;
}
