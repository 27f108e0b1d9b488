/**
 * What the worker's jobs share: the tfjs backend (chosen once), the loaded dataset, and one busy flag,
 * because local training, a federated round, the probe and the benchmark must not overlap on one backend.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice, type BackendName } from '../backend';
import { loadTrainingData, type LoadedData } from './datasets';
import type { DatasetSource, ShardSpec } from './types';

export class WorkerSession {
  backend?: BackendChoice;
  data?: LoadedData;
  /** True while a job holds the backend. */
  running = false;

  /** The backend, selected on first use (`force` only counts then). */
  async ensureBackend(force?: BackendName): Promise<BackendChoice> {
    this.backend ??= await selectBackend(force);
    return this.backend;
  }

  async loadDataset(source: DatasetSource, shard?: ShardSpec): Promise<{ source: DatasetSource; count: number }> {
    this.data = await loadTrainingData(source, shard);
    return { source, count: this.data.split.train.count };
  }

  /** Runs `job` marked busy; callers check `running` first, each with its own message. */
  async exclusive<T>(job: () => Promise<T>): Promise<T> {
    this.running = true;
    try {
      return await job();
    } finally {
      this.running = false;
    }
  }
}

export function tensorMemory(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}
