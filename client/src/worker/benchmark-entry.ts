/** `npm run bench:train`'s way in: times training steps on this worker's backend with a fresh model. */
import { COMPACT_MODEL_CONFIG, DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG } from '../../../shared/model/config';
import {
  benchmarkTrainStep,
  type TrainBenchmarkOptions,
  type TrainBenchmarkResult,
} from '../../../shared/ssl/train-benchmark';
import type { BackendChoice } from '../backend';
import type { WorkerSession } from './session';

export type BenchmarkOptions = Partial<Omit<TrainBenchmarkOptions, 'model'>> & {
  model?: 'default' | 'compact' | 'tiny';
};

const CONFIGS = { default: DEFAULT_MODEL_CONFIG, compact: COMPACT_MODEL_CONFIG, tiny: TINY_MODEL_CONFIG };

export async function runBenchmark(
  session: WorkerSession,
  opts: BenchmarkOptions,
  onStep?: (phase: 'warmup' | 'timed', index: number, ms: number) => void,
): Promise<TrainBenchmarkResult & { choice: BackendChoice }> {
  if (session.running) throw new Error('pause training before running the benchmark');
  const choice = await session.ensureBackend();
  const { model, ...rest } = opts;
  const result = await session.exclusive(() =>
    benchmarkTrainStep({ ...rest, model: CONFIGS[model ?? 'default'] }, onStep),
  );
  return { ...result, choice };
}
