/// <reference lib="webworker" />
/**
 * The trainer worker: wires the local trainer, the federation participant and the benchmark entry over one
 * session and exposes them to the page with comlink. The API's shape is what client/src/main.ts, federation.ts,
 * bench/train.ts and the e2e specs (through `window.fedssl` with ?debug=1) call.
 */
import * as Comlink from 'comlink';
import type { TrainingConfig } from '../../shared/protocol/round-config';
import { WorkerSession, tensorMemory } from './worker/session';
import { LocalTrainer } from './worker/local-trainer';
import { FederationParticipant } from './worker/federation-participant';
import { runBenchmark, type BenchmarkOptions } from './worker/benchmark-entry';
import type { DatasetSource, InitOptions, Progress, ShardSpec, TrainOptions } from './worker/types';

export type {
  DatasetSource,
  InitOptions,
  ProbeReport,
  Progress,
  ShardSpec,
  TrainerStatus,
  TrainOptions,
} from './worker/types';

const session = new WorkerSession();
const local = new LocalTrainer(session);
const participant = new FederationParticipant(session);

const api = {
  init: (opts?: InitOptions) => local.init(opts),
  status: () => local.status(),
  loadDataset: (source: DatasetSource, shard?: ShardSpec) => session.loadDataset(source, shard),
  train: (options: Partial<TrainOptions>, onProgress: (p: Progress) => void) => local.train(options, onProgress),
  pause: () => local.pause(),
  probe: (labels?: number, test?: number) => local.probe(labels, test),
  heldOutLoss: (count?: number, temperature?: number) => local.heldOutLoss(count, temperature),
  setFederationModel: (config: unknown) => participant.setModel(config),
  /** The delta's buffer is transferred, not copied, back to the page. */
  trainRound: async (
    globalWeights: Float32Array,
    training: TrainingConfig,
    onStep?: (step: number, loss: number) => void,
  ) => {
    const result = await participant.trainRound(globalWeights, training, onStep);
    return Comlink.transfer(result, [result.delta.buffer]);
  },
  benchmark: (opts: BenchmarkOptions, onStep?: (phase: 'warmup' | 'timed', index: number, ms: number) => void) =>
    runBenchmark(session, opts, onStep),
  memory: () => tensorMemory(),
  reset: () => local.reset(),
};

export type TrainerApi = typeof api;
Comlink.expose(api);
