import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from '@playwright/test';
import { startLocalAppServer } from './app-server';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { CHROMIUM_ARGS, ensureChromium } from '../chromium';
import { AdminClient } from './admin-client';
import type { RoundRow, VersionRow } from '../../server/registry/registry';
import type { CoordinatorStatus } from '../../server/federation/coordinator';
import { RoundOutcome, RoundPhase } from '../../shared/protocol/phases';
import { EVENTS } from '../../shared/protocol/messages';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { compareProbes, type ProbeComparison } from '../../shared/ssl/evaluate';
import { heldOutLoss } from '../../shared/ssl/held-out-loss';
import { defaultPolicy } from '../../shared/ssl/augment';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { isDefaultModel, ModelConfigSchema, type ModelConfig } from '../../shared/model/config';
import { TrainingConfigSchema } from '../../shared/protocol/round-config';
import { toFloatBatch } from '../../shared/data/dataset';
import type { DatasetName } from '../../shared/data/dataset';
import type { AugmentationPolicy } from '../../shared/ssl/augment-policy';
import { FLIP_VALID, recipeRoundTraining, SIMCLR_RECIPE } from '../../shared/ssl/recipe';

export interface SimulationOptions {
  clients: number;
  rounds: number;
  dataset: DatasetName;
  split: string;
  /** Fraction of each round's cohort whose pages are closed mid-round. */
  dropout: number;
  seed: number;
  /** Target a running server (needs adminToken); otherwise one is started in-process. */
  url?: string;
  adminToken?: string;
  model: 'default' | 'tiny';
  localSteps: number;
  batchSize: number;
  /** The peak of the default model's schedule, or any other model's constant rate (defaults: 2e-3 / the schema's 1e-3). */
  learningRate?: number;
  clientsPerBrowser: number;
  backend: 'wasm' | 'cpu' | 'webgpu';
  probe: boolean;
  /** Minimum valid updates for a round to commit (default: cohort minus expected dropouts, at least 1). */
  minSurvivors?: number;
  onProgress?: (p: SimulationProgress) => void;
  log?: (line: string) => void;
  /** Called for every page before it navigates (tests attach listeners here). */
  onPage?: (clientIndex: number, page: Page) => void;
}

export interface SimulationProgress {
  committedRounds: number;
  targetRounds: number;
  status: CoordinatorStatus;
}

export interface SimulationResult {
  url: string;
  rounds: RoundRow[];
  versions: VersionRow[];
  probe?: ProbeComparison & { version: number };
  /** The SimCLR objective on fixed held-out images and augmentation seeds, at the first and the last version. */
  heldOut?: { fromVersion: number; toVersion: number; before: number; after: number };
  closedPages: number;
  wallMs: number;
}

interface SimClient {
  index: number;
  context: BrowserContext;
  page?: Page;
  clientId?: string;
  url: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drives N headless Chromium clients (browser contexts) through R federated rounds. */
export async function runSimulation(opts: SimulationOptions): Promise<SimulationResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  let stopServer: (() => Promise<void>) | undefined;
  let url = opts.url;
  let adminToken = opts.adminToken;
  if (!url) {
    adminToken = `fa_${randomBytes(18).toString('base64url')}`;
    const server = await startLocalAppServer({ model: opts.model, dataDirPrefix: 'fedssl-sim-' }, { adminToken });
    url = server.url;
    stopServer = server.close;
    log(`started a server at ${url} (data in ${server.dataDir})`);
  }
  if (!adminToken) throw new Error('--admin-token is required when targeting a running server');
  const admin = new AdminClient(url, adminToken);
  const expectedDrop = Math.ceil(opts.dropout * opts.clients);
  const minSurvivors = opts.minSurvivors ?? Math.max(1, opts.clients - expectedDrop);
  // A running server (--url) may serve another encoder than --model: train what it serves.
  const served = await servedModelConfig(
    admin,
    (await admin.request<CoordinatorStatus>('GET', '/api/admin/status')).modelVersion,
  );
  const recipe = isDefaultModel(served);
  const training = simulationTraining(opts, recipe);
  const loss = trainedObjective(training);
  await admin.request('PUT', '/api/admin/config', {
    training,
    cohort: { mode: 'fixed', size: opts.clients },
    // Wait for the whole population each round (closed pages are reopened between rounds).
    minClients: opts.clients,
    minSurvivors,
    trainDeadlineMs: 600_000,
    roundIntervalMs: 500,
    maxUpdateNorm: 1e4,
  });
  await admin.request('POST', '/api/admin/rounds/resume'); // an earlier run may have paused it
  const startVersion = (await admin.request<CoordinatorStatus>('GET', '/api/admin/status')).modelVersion;
  const firstRoundAfter = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds'))[0]?.id ?? 0;

  const browsers: Browser[] = [];
  const clients: SimClient[] = [];
  let closedPages = 0;
  const drawnRounds = new Set<number>();
  const reopen: SimClient[] = [];
  try {
    const executablePath = ensureChromium(log);
    const browserCount = Math.ceil(opts.clients / opts.clientsPerBrowser);
    for (let b = 0; b < browserCount; b++) {
      browsers.push(await chromium.launch({ executablePath, args: CHROMIUM_ARGS }));
    }
    for (let i = 0; i < opts.clients; i++) {
      const token = (await admin.createJoinToken(`sim client ${i}`)).token;
      const q = new URLSearchParams({
        backend: opts.backend,
        dataset: opts.dataset,
        shard: String(i),
        clients: String(opts.clients),
        split: opts.split,
        seed: String(opts.seed),
        join: '1',
        token,
      });
      const context = await browsers[Math.floor(i / opts.clientsPerBrowser)]!.newContext();
      clients.push({ index: i, context, url: `${url}/?${q}` });
    }
    // A dropout vanishes before its update reaches the server: its upload frame is held until this round's
    // victims are drawn, then the victim's page is closed instead of sending it (no race with fast clients).
    const victimsOf = new Map<number, { drawn: Promise<Set<number>>; draw: (v: Set<number>) => void }>();
    const roundGate = (round: number) => {
      let gate = victimsOf.get(round);
      if (!gate) {
        let draw!: (v: Set<number>) => void;
        const drawn = new Promise<Set<number>>((resolve) => (draw = resolve));
        gate = { drawn, draw };
        victimsOf.set(round, gate);
      }
      return gate;
    };
    const dropAtUpload = (c: SimClient, ws: WebSocketRoute) => {
      const server = ws.connectToServer();
      let frames = Promise.resolve();
      let dropped = false;
      // Frames stay in order: each waits for the one before it (an upload is a header plus binary frames).
      ws.onMessage((message) => {
        frames = frames.then(async () => {
          if (dropped) return;
          const round = typeof message === 'string' ? uploadRound(message) : undefined;
          if (round !== undefined && (await roundGate(round).drawn).has(c.index)) {
            dropped = true;
            const page = c.page;
            c.page = undefined;
            closedPages++;
            reopen.push(c);
            log(`round ${round}: closed client ${c.index} before its upload`);
            await page?.close();
            return;
          }
          server.send(message);
        });
      });
    };
    const openPage = async (c: SimClient) => {
      const page = await c.context.newPage();
      if (expectedDrop > 0) await page.routeWebSocket(/\/socket\.io\//, (ws) => dropAtUpload(c, ws));
      page.on('pageerror', (e) => log(`client ${c.index}: page error: ${e.message}`));
      opts.onPage?.(c.index, page);
      await page.goto(c.url);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="fed-conn"]')?.textContent === 'connected',
        undefined,
        { timeout: 120_000 },
      );
      c.clientId = await page.evaluate(() => localStorage.getItem('fedssl.clientId') ?? undefined);
      c.page = page;
    };
    await Promise.all(clients.map(openPage));
    log(`${clients.length} browser clients joined (${browsers.length} browser${browsers.length > 1 ? 's' : ''})`);

    let committed = 0;
    for (;;) {
      const status = await admin.request<CoordinatorStatus>('GET', '/api/admin/status');
      const rounds = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds')).filter(
        (r) => r.id > firstRoundAfter,
      );
      committed = rounds.filter((r) => r.outcome === RoundOutcome.Committed).length;
      opts.onProgress?.({ committedRounds: committed, targetRounds: opts.rounds, status });
      if (committed >= opts.rounds) break;
      // Drop-outs: draw a fraction of this round's cohort once the round is under way; they vanish at upload.
      if (expectedDrop > 0 && status.phase !== RoundPhase.Idle && !drawnRounds.has(status.roundId)) {
        drawnRounds.add(status.roundId);
        const k = Math.min(expectedDrop, status.cohort.length);
        const victims = shuffle(
          clients.filter((c) => c.page && c.clientId && status.cohort.includes(c.clientId)),
        ).slice(0, k);
        roundGate(status.roundId).draw(new Set(victims.map((v) => v.index)));
      }
      if (status.phase === RoundPhase.Idle && reopen.length > 0) await Promise.all(reopen.splice(0).map(openPage));
      await sleep(250);
    }
    await admin.request('POST', '/api/admin/rounds/pause');

    const rounds = (await admin.request<RoundRow[]>('GET', '/api/admin/rounds'))
      .filter((r) => r.id > firstRoundAfter)
      .reverse();
    const versions = (await admin.request<VersionRow[]>('GET', '/api/admin/versions'))
      .filter((v) => v.version >= startVersion)
      .reverse();
    const result: SimulationResult = { url, rounds, versions, closedPages, wallMs: Date.now() - t0 };
    if (opts.probe) {
      const last = versions[versions.length - 1]!;
      log(`linear probe of v${last.version} vs a random-init encoder…`);
      result.probe = { ...(await probeVersion(admin, last.version, opts.dataset)), version: last.version };
      const before = await heldOutLossOfVersion(admin, startVersion, opts.dataset, loss);
      const after = await heldOutLossOfVersion(admin, last.version, opts.dataset, loss);
      result.heldOut = { fromVersion: startVersion, toVersion: last.version, before, after };
      log(`held-out SimCLR loss: v${startVersion} ${before.toFixed(3)} → v${last.version} ${after.toFixed(3)}`);
    }
    return result;
  } finally {
    for (const b of browsers) await b.close().catch(() => undefined);
    await stopServer?.();
  }
}

/** Loads one version's encoder (or projection head) through the admin API (tfjs format, bearer auth). */
async function loadEncoder(
  admin: AdminClient,
  version: number,
  part: 'encoder' | 'head' = 'encoder',
): Promise<tf.LayersModel> {
  const handler = tf.io.http(
    `${admin.baseUrl}/api/admin/models/${version}/model.json${part === 'head' ? '?part=head' : ''}`,
    {
      requestInit: { headers: { Authorization: `Bearer ${admin.token}` } },
      fetchFunc: admin.fetchRead,
    },
  );
  return tf.loadLayersModel(handler);
}

/**
 * Linear probe of `version` against the federation's own random initialisation
 * (version 0): the same architecture and the same starting weights, so the gap is
 * what federated SSL bought rather than luck of the draw between two random inits.
 */
export async function probeVersion(admin: AdminClient, version: number, dataset: DatasetName, baselineVersion = 0) {
  const { loadNpmDataset } = await import('../../server/data/npm-datasets');
  const { initWasmBackendForNode } = await import('../../shared/tfjs/wasm-node');
  await initWasmBackendForNode();
  const split = loadNpmDataset(dataset);
  const encoder = await loadEncoder(admin, version);
  const baseline = await loadEncoder(admin, baselineVersion);
  try {
    return await compareProbes({ encoder }, { encoder: baseline }, split);
  } finally {
    encoder.dispose();
    baseline.dispose();
  }
}

const UPLOAD_EVENT = new RegExp(`^4[25](?:\\d+-)?\\d*\\["(?:${SECAGG_EVENTS.maskedInput}|${EVENTS.submitUpdate})"`);

/** The round of a socket.io frame that starts a client's upload (masked input or plain delta), if it is one. */
function uploadRound(frame: string): number | undefined {
  if (!UPLOAD_EVENT.test(frame)) return undefined;
  const m = /"round(?:Id)?":(\d+)/.exec(frame.slice(0, 1024));
  return m ? Number(m[1]) : undefined;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * What the browsers train: the default encoder with the recipe the server would give it (flip where the dataset
 * is mirror-symmetric, the schedule over the simulated rounds), any other with the schema's τ and augmentations.
 */
function simulationTraining(opts: SimulationOptions, recipe: boolean) {
  const steps = { localSteps: opts.localSteps, batchSize: opts.batchSize };
  if (!recipe) {
    const schema = TrainingConfigSchema.parse({});
    return { ...steps, learningRate: opts.learningRate ?? schema.learningRate, temperature: schema.temperature };
  }
  return {
    ...recipeRoundTraining({ flip: FLIP_VALID[opts.dataset], totalRounds: opts.rounds }),
    ...steps,
    learningRate: opts.learningRate ?? SIMCLR_RECIPE.peakLearningRate,
  };
}

/** The held-out loss is measured with the objective the clients train (τ and augmentations). */
function trainedObjective(t: ReturnType<typeof simulationTraining>): {
  temperature: number;
  policy: AugmentationPolicy;
} {
  return { temperature: t.temperature, policy: 'augmentation' in t ? t.augmentation : defaultPolicy(1) };
}

/** The encoder architecture of one stored version (the server's model export metadata). */
async function servedModelConfig(admin: AdminClient, version: number): Promise<ModelConfig> {
  const meta = await admin.request<{ userDefinedMetadata: { modelConfig: unknown } }>(
    'GET',
    `/api/admin/models/${version}/model.json`,
  );
  return ModelConfigSchema.parse(meta.userDefinedMetadata.modelConfig);
}

/** The held-out SimCLR loss (shared/ssl/held-out-loss) of one version: encoder and head from the admin API. */
export async function heldOutLossOfVersion(
  admin: AdminClient,
  version: number,
  dataset: DatasetName,
  loss: { temperature: number; policy: AugmentationPolicy },
  count = 256,
): Promise<number> {
  const { loadNpmDataset } = await import('../../server/data/npm-datasets');
  const { initWasmBackendForNode } = await import('../../shared/tfjs/wasm-node');
  await initWasmBackendForNode();
  const test = loadNpmDataset(dataset).test;
  const encoder = await loadEncoder(admin, version, 'encoder');
  const head = await loadEncoder(admin, version, 'head');
  const model = createSimclrModel(await servedModelConfig(admin, version));
  const n = Math.min(count, test.count);
  const x = tf.tensor4d(
    toFloatBatch(
      test,
      Array.from({ length: n }, (_, i) => i),
    ),
    [n, test.height, test.width, test.channels],
  );
  try {
    model.encoder.setWeights(encoder.getWeights());
    model.head.setWeights(head.getWeights());
    return heldOutLoss(model, x, loss.policy, loss.temperature);
  } finally {
    x.dispose();
    encoder.dispose();
    head.dispose();
    disposeSimclrModel(model);
  }
}
