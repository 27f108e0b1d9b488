/**
 * One (arm, seed) job of bench:quality: train (or not) an encoder under an equal
 * budget of images processed, then run the fixed probe protocol on its frozen
 * representation. Runs inside a worker thread (one tfjs WASM instance each).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import pino from 'pino';
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../shared/model/encoder';
import { COMPACT_MODEL_CONFIG, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../shared/model/config';
import { unflattenWeights, weightLayout } from '../../shared/model/weights';
import { extractFeatures } from '../../shared/ssl/probe';
import { DEFAULT_C_GRID, runProbeProtocol, type ProbeProtocolResult } from '../../shared/ssl/probe-protocol';
import { tfLossGrad } from '../../shared/ssl/probe-tf';
import { rawPixelFeatures } from '../../shared/ssl/probe-baselines';
import { layerDivergenceWeights } from '../../shared/federation/divergence-weights';
import { createTrainer } from '../../shared/ssl/train-step';
import { FLIP_VALID, grayscaleRecipePolicy, recipeSchedule, SIMCLR_RECIPE } from '../../shared/ssl/recipe';
import { warmupCosineLr, type WarmupCosine } from '../../shared/ssl/lr-schedule';
import { defaultPolicy } from '../../shared/ssl/augment';
import type { AugmentationPolicy } from '../../shared/ssl/augment-policy';
import { trainSupervisedCeiling } from './supervised';
import { createRng, deriveSeed } from '../../shared/data/rng';
import {
  readFederatedState,
  readJobCheckpoint,
  restoreJobCheckpoint,
  saveFederatedState,
  saveJobCheckpoint,
  serverDirOf,
} from './job-checkpoint';
import { subset, toFloatBatch, type DatasetSplit, type ImageDataset } from '../../shared/data/dataset';
import { partition } from '../../shared/data/splits';
import { sampleWithoutReplacement, trainLocalRound, type LocalRoundResult } from '../../shared/federation/local-round';
import { SECAGG_EVENTS } from '../../shared/protocol/secagg-messages';
import { TrainingConfigSchema, type RoundConfigInput, type TrainingConfig } from '../../shared/protocol/round-config';
import { roundSchedule, trainingForRound } from '../../shared/federation/round-learning-rate';
import { NodeFederatedClient } from '../../server/federation/node-client';
import { startServer } from '../../server/app';
import { loadServerConfig } from '../../server/config';
import type { RoundEndedEvent } from '../../server/federation/coordinator';
import { RoundOutcome, RoundPhase } from '../../shared/protocol/phases';

export const ARM_NAMES = [
  'raw',
  'random',
  'central',
  'fed-iid',
  'fed-dir',
  'fed-dir-dp',
  'fed-dir-div',
  'supervised',
] as const;
export type ArmName = (typeof ARM_NAMES)[number];

export const ARM_LABELS: Record<ArmName, string> = {
  raw: 'raw pixels',
  random: 'random-init encoder',
  central: 'centralized SimCLR',
  'fed-iid': 'federated IID',
  'fed-dir': 'federated Dirichlet(0.1) + 30% dropout + SecAgg',
  'fed-dir-dp': 'federated Dirichlet(0.1) + 30% dropout + SecAgg + DP',
  'fed-dir-div': 'federated Dirichlet(0.1) + 30% dropout + SecAgg, divergence-aware aggregation',
  supervised: 'supervised ceiling (same encoder trained on the labelled rows; not SSL)',
};

/**
 * What a trained arm trains, named as the server's --model: 'default' (DEFAULT_MODEL_CONFIG with the recipe,
 * shared/ssl/recipe.ts) or 'compact' (the old default encoder with the round config's default training:
 * constant learning rate, τ and augmentations), so both are measured by the same protocol.
 */
export const MODEL_CHOICES = ['default', 'compact'] as const;
export type ModelChoice = (typeof MODEL_CHOICES)[number];

export interface TrainingSetup {
  /** The server's --model name for the same architecture. */
  serverModel: ModelChoice;
  modelConfig: ModelConfig;
  temperature: number;
  policy: AugmentationPolicy;
  /** Peak learning rate of the schedule, or the constant rate without one. */
  learningRate: number;
  /** Learning rate over `totalSteps` optimizer steps (centrally) or rounds (federated); none: constant. */
  schedule(totalSteps: number): WarmupCosine | undefined;
}

export function trainingSetup(choice: ModelChoice): TrainingSetup {
  if (choice === 'default')
    return {
      serverModel: 'default',
      modelConfig: DEFAULT_MODEL_CONFIG,
      temperature: SIMCLR_RECIPE.temperature,
      policy: grayscaleRecipePolicy({ flip: FLIP_VALID['fashion-mnist'] }),
      learningRate: SIMCLR_RECIPE.peakLearningRate,
      schedule: (totalSteps) => recipeSchedule(totalSteps),
    };
  const product = TrainingConfigSchema.parse({});
  return {
    serverModel: 'compact',
    modelConfig: COMPACT_MODEL_CONFIG,
    temperature: product.temperature,
    policy: defaultPolicy(1),
    learningRate: product.learningRate,
    schedule: () => undefined,
  };
}

/**
 * Local steps and client batch of the federated arms. A full run trains what the product's round config does
 * by default (TrainingConfigSchema: 10 local steps × batch 32); --quick takes bigger, fewer steps (5 × 64) so
 * that its small budget still spans about 10 rounds.
 */
export function federationDefaults(quick: boolean): { localSteps: number; clientBatch: number } {
  if (quick) return { localSteps: 5, clientBatch: 64 };
  const product = TrainingConfigSchema.parse({});
  return { localSteps: product.localSteps, clientBatch: product.batchSize };
}

export interface JobOptions {
  arm: ArmName;
  seed: number;
  /** Images processed by SimCLR training steps (each image = one positive pair). */
  budget: number;
  /** Probe points along training (besides the end), each a 1,000-label probe. */
  curveProbes: number;
  labels: number;
  lowLabels: number;
  clients: number;
  localSteps: number;
  clientBatch: number;
  dropout: number;
  dpNoiseMultiplier: number;
  /** Default 'default'. */
  model?: ModelChoice;
  /** The centralized arm's batch; default the recipe's (SIMCLR_RECIPE.batchSize). */
  centralBatch?: number;
  /** Centralized jobs save their state here every CHECKPOINT_IMAGES images and resume from it. */
  checkpointFile?: string;
}

/** Images between mid-job checkpoints (25 steps of 256: ≈ 2–5 min of a centralized job on this VM). */
const CHECKPOINT_IMAGES = 6_400;

export interface CurvePoint {
  images: number;
  loss?: number;
  probe1k?: number;
  lr?: number;
}

export interface JobResult {
  arm: ArmName;
  seed: number;
  budget: number;
  imagesProcessed: number;
  probe: ProbeProtocolResult;
  probeLow: ProbeProtocolResult;
  featureDim: number;
  curve: CurvePoint[];
  wallSeconds: number;
  notes: string[];
  epsilon?: number;
  delta?: number;
}

export type Progress = (done: number, total: number, info: string) => void;

function features(model: SimclrModel, ds: ImageDataset): Promise<{ features: Float32Array; dim: number }> {
  return extractFeatures(model.encoder, ds.images, ds.count, [ds.height, ds.width, ds.channels]);
}

/**
 * The fixed protocol: the first `labels` (and `lowLabels`) training images are the
 * labelled set, the training images after the first `labels` are the validation rows
 * that pick C, and the whole test split is scored once.
 */
export async function probeModel(
  model: SimclrModel | null,
  split: DatasetSplit,
  labels: number,
  lowLabels: number,
  lowOnly = false,
): Promise<{ probe: ProbeProtocolResult; probeLow: ProbeProtocolResult; dim: number }> {
  const all = split.train;
  const nVal = all.count - labels;
  if (nVal < 500)
    throw new Error(
      `probe: ${labels} labels leave ${nVal} of ${all.count} training images for validation (need ≥ 500)`,
    );
  let trainF: Float32Array;
  let testF: Float32Array;
  let dim: number;
  if (model) {
    const a = await features(model, all);
    const b = await features(model, split.test);
    [trainF, testF, dim] = [a.features, b.features, a.dim];
  } else {
    // The same features as the console's and the page's raw-pixel baseline (probe-baselines.ts).
    trainF = rawPixelFeatures(all.images);
    testF = rawPixelFeatures(split.test.images);
    dim = all.width * all.height * all.channels;
  }
  const k = all.numClasses;
  const made: { dispose(): void }[] = [];
  const fast = (...args: Parameters<typeof tfLossGrad>) => {
    const f = tfLossGrad(...args);
    made.push(f);
    return f;
  };
  const labelled = { features: trainF.subarray(0, labels * dim), labels: all.labels.subarray(0, labels) };
  const validation = { features: trainF.subarray(labels * dim), labels: all.labels.subarray(labels) };
  const test = { features: testF, labels: split.test.labels };
  const opts = { cGrid: DEFAULT_C_GRID, validation };
  try {
    const probeLow = runProbeProtocol(labelled, test, dim, k, lowLabels, opts, fast);
    const probe = lowOnly ? probeLow : runProbeProtocol(labelled, test, dim, k, labels, opts, fast);
    return { probe, probeLow, dim };
  } finally {
    for (const f of made) f.dispose();
  }
}

async function quickProbe(model: SimclrModel, split: DatasetSplit, labels: number, lowLabels: number): Promise<number> {
  return (await probeModel(model, split, labels, lowLabels, true)).probeLow.testAccuracy;
}

function curveMarks(total: number, n: number): Set<number> {
  const s = new Set<number>();
  for (let i = 1; i <= n; i++) s.add(Math.round((i * total) / (n + 1)));
  return s;
}

/** What a training arm works on: its options, the data, the model it trains in place, and where it reports. */
interface ArmRun {
  o: JobOptions;
  split: DatasetSplit;
  model: SimclrModel;
  progress: Progress;
  curve: CurvePoint[];
  notes: string[];
}

async function runCentral({ o, split, model, progress, curve, notes }: ArmRun): Promise<number> {
  const setup = trainingSetup(o.model ?? 'default');
  const batch = o.centralBatch ?? SIMCLR_RECIPE.batchSize;
  const steps = Math.max(1, Math.round(o.budget / batch));
  const checkpointEvery = Math.max(1, Math.round(CHECKPOINT_IMAGES / batch));
  const schedule = setup.schedule(steps);
  notes.push(`${steps} steps × batch ${batch}`);
  const stored = o.checkpointFile ? readJobCheckpoint(o.checkpointFile) : undefined;
  const from = stored?.step ?? 0;
  // A resumed job draws its batches and augmentations from streams seeded by the step it resumes at: it is
  // as random as an uninterrupted run, not bit-identical to one.
  const streamSeed = (name: string) => deriveSeed(o.seed, from === 0 ? name : `${name}@${from}`);
  const trainer = createTrainer(model, {
    learningRate: setup.learningRate,
    temperature: setup.temperature,
    policy: setup.policy,
    augmentSeed: streamSeed('augment'),
    ...(schedule ? { schedule } : {}),
    startStep: from,
  });
  const rng = createRng(streamSeed('batches'));
  const data = split.train;
  const shape = [data.height, data.width, data.channels] as const;
  const marks = curveMarks(steps, o.curveProbes);
  let images = 0;
  try {
    if (stored) {
      await restoreJobCheckpoint(stored, model, trainer);
      images = stored.images;
      curve.push(...stored.curve);
      progress(images, o.budget, `resumed at step ${from}/${steps}`);
    }
    for (let step = from + 1; step <= steps; step++) {
      const idx = sampleWithoutReplacement(data.count, batch, () => rng.uniform());
      const x = tf.tensor4d(toFloatBatch(data, idx), [batch, ...shape]);
      const loss = await trainer.step(x).finally(() => x.dispose());
      images += batch;
      curve.push({ images, loss, lr: schedule ? warmupCosineLr(step - 1, schedule) : setup.learningRate });
      if (marks.has(step)) curve.push({ images, probe1k: await quickProbe(model, split, o.labels, o.lowLabels) });
      if (o.checkpointFile && step % checkpointEvery === 0 && step < steps)
        await saveJobCheckpoint(o.checkpointFile, model, trainer, { step, images, curve });
      progress(images, o.budget, `step ${step}/${steps} loss ${loss.toFixed(3)}`);
    }
  } finally {
    trainer.dispose();
  }
  return images;
}

/** The supervised ceiling (supervised.ts): labelled training, the same curve probes, no mid-job checkpoint. */
async function runSupervised({ o, split, model, progress, curve, notes }: ArmRun): Promise<number> {
  const steps = Math.max(1, Math.round(o.budget / SIMCLR_RECIPE.batchSize));
  const marks = curveMarks(steps, o.curveProbes);
  let step = 0;
  notes.push(`cross-entropy on the first ${o.labels} training images (the probe's labelled rows); loss is not NT-Xent`);
  return trainSupervisedCeiling(model, split, {
    labels: o.labels,
    budget: o.budget,
    seed: o.seed,
    onStep: async (images, loss, lr) => {
      step++;
      curve.push({ images, loss, lr });
      if (marks.has(step)) curve.push({ images, probe1k: await quickProbe(model, split, o.labels, o.lowLabels) });
      progress(images, o.budget, `step ${step}/${steps} cross-entropy ${loss.toFixed(3)}`);
    },
  });
}

/**
 * Federated arms: a real server (HTTP, socket.io, SQLite registry, SecAgg+, DP
 * accountant) and `clients` in-process Node clients over the real protocol code.
 * The server schedules each round's learning rate (training.schedule); the bench only
 * draws the dropouts and reconnects dropped clients after each round.
 */
async function runFederated({
  o,
  split,
  model,
  progress,
  curve,
  notes,
}: ArmRun): Promise<{ images: number; epsilon?: number; delta?: number }> {
  const nonIid = o.arm !== 'fed-iid';
  const dp = o.arm === 'fed-dir-dp';
  const dropout = nonIid ? o.dropout : 0;
  const spec = nonIid ? 'dirichlet:0.1' : 'iid';
  const shards = partition(split.train.labels, o.clients, spec, deriveSeed(o.seed, 'split')).map((idx) =>
    subset(split.train, idx),
  );
  // Expected images per round: survivors × local steps × batch (clients with fewer images use them all).
  const perRound = shards.reduce((a, s) => a + o.localSteps * Math.min(o.clientBatch, s.count), 0) * (1 - dropout);
  const rounds = Math.max(1, Math.round(o.budget / perRound));
  const setup = trainingSetup(o.model ?? 'default');
  const schedule = setup.schedule(rounds);
  // The server gives each round its learning rate from training.schedule, as in the product.
  const training: TrainingConfig = TrainingConfigSchema.parse({
    localSteps: o.localSteps,
    batchSize: o.clientBatch,
    learningRate: setup.learningRate,
    temperature: setup.temperature,
    augmentation: setup.policy,
    ...(schedule ? { schedule: roundSchedule(schedule) } : {}),
  });
  const secure = nonIid;
  const roundConfig: RoundConfigInput = {
    training,
    cohort: dp ? { mode: 'poisson', rate: 1 } : { mode: 'fixed', size: o.clients },
    minClients: o.clients,
    minSurvivors: 2,
    trainDeadlineMs: 3_600_000,
    phaseDeadlineMs: 3_600_000,
    roundIntervalMs: 0,
    secureAggregation: { enabled: secure, clipNorm: dp ? 1 : 10 },
    privacy: dp
      ? { enabled: true, mode: 'central', noiseMultiplier: o.dpNoiseMultiplier, targetEpsilon: 1e9 }
      : { enabled: false },
    // Arm 5 with per-layer divergence weights (shared/federation/divergence-weights.ts); everything else equal.
    aggregation: o.arm === 'fed-dir-div' ? 'divergence' : 'fedavg',
  };
  // A resumable job keeps its server's data directory beside the results: a restarted server resumes from
  // its registry (latest version, optimizer and privacy state), and the bench from its own state file.
  const stateFile = o.checkpointFile;
  const saved = stateFile ? readFederatedState(stateFile) : undefined;
  const dataDir = stateFile ? serverDirOf(stateFile) : mkdtempSync(join(tmpdir(), 'fedssl-quality-'));
  mkdirSync(dataDir, { recursive: true });
  const cfg = loadServerConfig(
    // The server must serve the architecture the clients train.
    { port: 0, host: '127.0.0.1', dataDir, model: setup.serverModel, logLevel: 'silent', openEnrollment: false },
    {},
  );
  const server = await startServer(cfg, {
    logger: pino({ level: 'silent' }),
    evaluation: false,
    roundConfig,
    manualStart: true,
    adminToken: 'fa_quality-bench-admin-0123456789',
  });
  // Server and clients share one thread here: a long training step delays pongs, and socket.io's 20 s
  // ping timeout would count busy clients as dropped. Real dropouts are the injected ones.
  server.io.engine.opts.pingTimeout = 3_600_000;
  notes.push(
    `${rounds} rounds × ${o.clients} clients × ${o.localSteps} local steps × batch ≤ ${o.clientBatch}; starts from the server's own v0 init`,
  );
  const clients: NodeFederatedClient[] = [];
  const dropping = new Set<number>();
  let images = 0;
  // Rounds already committed (a resumed job): the registry's latest version counts them.
  let committed = server.registry.latestVersion()?.version ?? 0;
  if (committed > 0) {
    if (saved?.committed !== committed)
      notes.push(
        `resumed at round ${committed}; the state file said ${saved?.committed ?? 'nothing'} (images estimated)`,
      );
    images = saved?.committed === committed ? saved.images : Math.round(committed * perRound);
    curve.push(...(saved?.curve ?? []));
    notes.push(
      ...(saved?.notes ?? []).filter((n) => !notes.includes(n)),
      `resumed after round ${committed} of ${rounds}`,
    );
    progress(images, o.budget, `resumed after round ${committed}/${rounds}`);
  }
  // A resumed job draws dropouts and local batches from a stream seeded by the round it resumes at.
  const dropRng = createRng(deriveSeed(o.seed, committed === 0 ? 'dropout' : `dropout@${committed}`));
  const layerWeightsSeen: number[] = [];
  try {
    const localModels = shards.map(() => createSimclrModel(setup.modelConfig));
    shards.forEach((data, i) => {
      const c: NodeFederatedClient = new NodeFederatedClient({
        url: server.url,
        token: server.registry.createToken('client').token,
        // Ids are bound to the token that created them: a resumed job's clients get new tokens, so new ids.
        clientId: committed === 0 ? `quality-${i}-client` : `quality-${i}-r${committed}-client`,
        modelConfig: setup.modelConfig,
        data,
        // All clients and the server share this thread: an ack can wait behind other clients' training.
        ackTimeoutMs: 3_600_000,
        dropBefore: (event) => dropping.has(i) && event === SECAGG_EVENTS.maskedInput,
        // A client-side failure would otherwise only show as a stalled phase.
        onEvent: (e) => {
          if (e.type === 'error' && !dropping.has(i))
            console.error(`[${o.arm}/seed${o.seed}] client ${i}: ${e.message}`);
        },
        trainOverride: async (global, tc): Promise<LocalRoundResult> => {
          // A client that will vanish before uploading does not spend the budget.
          if (dropping.has(i))
            return { delta: new Float32Array(global.length), meanLoss: 0, steps: 0, numExamples: data.count };
          const m = localModels[i]!;
          const r = await trainLocalRound({
            model: m,
            layout: weightLayout(m),
            globalWeights: global,
            data,
            training: tc,
            random: () => dropRng.uniform(),
          });
          images += r.steps * Math.min(tc.batchSize, data.count);
          // Diagnostic only (the server never sees them): how far the layer weights are from FedAvg's 1.
          if (o.arm === 'fed-dir-div')
            layerWeightsSeen.push(
              ...layerDivergenceWeights(
                global,
                r.delta,
                weightLayout(m).entries.map((e) => e.size),
              ),
            );
          return r;
        },
      });
      clients.push(c);
    });
    await new Promise<void>((resolve, reject) => {
      const marks = curveMarks(rounds, o.curveProbes);
      const pickDroppers = () => {
        dropping.clear();
        // Exactly round(dropout·n) clients vanish each round (SecAgg+ must tolerate it).
        const k = Math.round(dropout * o.clients);
        const ids = Array.from({ length: o.clients }, (_, i) => i);
        dropRng.shuffle(ids);
        for (const i of ids.slice(0, k)) dropping.add(i);
      };
      let lastEvent = Date.now();
      server.coordinator.on('round-started', () => {
        lastEvent = Date.now();
        progress(images, o.budget, `round ${committed + 1}/${rounds}`);
      });
      // A dropped client whose reconnect was refused (e.g. the server had not yet seen its
      // disconnect) retries while the server idles; a stall is reported, not silent.
      const watchdog = setInterval(() => {
        const st = server.coordinator.status();
        if (st.phase === RoundPhase.Idle) for (const c of clients) if (!c.socket.connected) c.socket.connect();
        if (Date.now() - lastEvent < 120_000) return;
        const down = clients
          .filter((c) => !c.socket.connected)
          .map(
            (c) =>
              `${c.id}: ${c.client.events
                .slice(-3)
                .map(
                  (e) =>
                    e.type + ('message' in e ? `(${e.message})` : '') + ('reason' in e ? `(${String(e.reason)})` : ''),
                )
                .join(', ')}`,
          );
        progress(
          images,
          o.budget,
          `stalled? phase ${st.phase} paused ${st.paused} eligible ${st.eligibleClients} connected ${st.connectedClients} delivered ${st.delivered.length}/${st.cohort.length}; down: ${down.join(' | ')}`,
        );
      }, 5_000);
      watchdog.unref();
      server.coordinator.on('round-ended', (e: RoundEndedEvent) => {
        lastEvent = Date.now();
        void (async () => {
          try {
            if (e.outcome !== RoundOutcome.Committed) {
              notes.push(`round ${e.roundId} ${e.outcome}: ${e.reason ?? ''}`);
              console.error(`[${o.arm}/seed${o.seed}] round ${e.roundId} ${e.outcome}: ${e.reason ?? ''}`);
              if (notes.length > 20) throw new Error(`too many failed rounds; last: ${e.reason ?? ''}`);
            } else committed++;
            curve.push({
              images,
              ...(e.meanLoss !== null ? { loss: e.meanLoss } : {}),
              lr: trainingForRound(training, committed - 1).learningRate,
            });
            server.coordinator.pause();
            if (marks.has(committed) && e.outcome === RoundOutcome.Committed) {
              unflattenWeights(model, weightLayout(model), server.coordinator.globalModel.weights);
              curve.push({ images, probe1k: await quickProbe(model, split, o.labels, o.lowLabels) });
            }
            progress(images, o.budget, `round ${committed}/${rounds} loss ${e.meanLoss?.toFixed(3) ?? '–'}`);
            if (stateFile && e.outcome === RoundOutcome.Committed)
              saveFederatedState(stateFile, { committed, images, curve, notes });
            if (committed >= rounds) return resolve();
            pickDroppers();
            for (const c of clients) if (!c.socket.connected) c.socket.connect();
            server.coordinator.resume();
          } catch (err) {
            reject(err as Error);
          }
        })();
      });
      pickDroppers();
      server.coordinator.start();
    });
    unflattenWeights(model, weightLayout(model), server.coordinator.globalModel.weights);
    const privacy = server.coordinator.status().privacy;
    for (const m of localModels) disposeSimclrModel(m);
    if (layerWeightsSeen.length) {
      const a = [...layerWeightsSeen].sort((x, y) => x - y);
      const q = (p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))]!.toFixed(4);
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      notes.push(
        `layer weights a (client-side diagnostic, ${a.length} client-layer values): mean ${mean.toFixed(4)}, min ${q(0)}, 5% ${q(0.05)}, median ${q(0.5)}`,
      );
    }
    return { images, ...(privacy ? { epsilon: privacy.epsilon, delta: privacy.delta } : {}) };
  } finally {
    for (const c of clients) c.close();
    await server.close();
    // A resumable job keeps its directory until bench:quality has saved the result (removeJobCheckpoint).
    if (!stateFile) rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runJob(o: JobOptions, split: DatasetSplit, progress: Progress): Promise<JobResult> {
  const t0 = performance.now();
  const curve: CurvePoint[] = [];
  const notes: string[] = [];
  let images = 0;
  let extra: { epsilon?: number; delta?: number } = {};
  if (o.arm === 'raw') {
    const r = await probeModel(null, split, o.labels, o.lowLabels);
    notes.push('no training and no randomness: the same value for every seed');
    return {
      arm: o.arm,
      seed: o.seed,
      budget: o.budget,
      imagesProcessed: 0,
      probe: r.probe,
      probeLow: r.probeLow,
      featureDim: r.dim,
      curve,
      wallSeconds: (performance.now() - t0) / 1000,
      notes,
    };
  }
  if (o.arm === 'supervised' && (o.model ?? 'default') !== 'default')
    throw new Error('the supervised ceiling is measured for the default encoder only (--model default)');
  const model = createSimclrModel(trainingSetup(o.model ?? 'default').modelConfig, o.seed);
  try {
    const run: ArmRun = { o, split, model, progress, curve, notes };
    if (o.arm === 'central') images = await runCentral(run);
    else if (o.arm === 'supervised') images = await runSupervised(run);
    else if (o.arm !== 'random') {
      const r = await runFederated(run);
      images = r.images;
      extra = r;
    }
    const r = await probeModel(model, split, o.labels, o.lowLabels);
    curve.push({ images, probe1k: r.probeLow.testAccuracy });
    return {
      arm: o.arm,
      seed: o.seed,
      budget: o.budget,
      imagesProcessed: images,
      probe: r.probe,
      probeLow: r.probeLow,
      featureDim: r.dim,
      curve,
      wallSeconds: (performance.now() - t0) / 1000,
      notes,
      ...(extra.epsilon !== undefined ? { epsilon: extra.epsilon, delta: extra.delta } : {}),
    };
  } finally {
    disposeSimclrModel(model);
  }
}
