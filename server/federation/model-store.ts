import type { Registry } from '../registry/registry';
import { readCheckpointAsync } from '../registry/checkpoints';

export interface EncodedModel {
  version: number;
  hash: string;
  layoutHash: string;
  /** float32 weights as bytes, ready to send. */
  weights: Uint8Array;
}

/**
 * Encoded weights of recent versions for `model:get`: an LRU of `capacity`
 * versions, read asynchronously and verified once, with concurrent requests for
 * the same version sharing one read. The current version is passed in from
 * memory and never touches the disk.
 */
export class ModelStore {
  private readonly cache = new Map<number, Promise<EncodedModel>>();
  /** Checkpoint files read so far (tests and metrics). */
  diskReads = 0;

  constructor(
    private readonly registry: Registry,
    private readonly capacity = 4,
  ) {}

  get(version: number): Promise<EncodedModel> {
    const hit = this.cache.get(version);
    if (hit) {
      // Refresh its LRU position.
      this.cache.delete(version);
      this.cache.set(version, hit);
      return hit;
    }
    const row = this.registry.getVersion(version);
    if (!row) return Promise.reject(new Error(`model version ${version} does not exist`));
    if (row.pruned_at !== null)
      return Promise.reject(
        new Error(`the checkpoint of model version ${version} was deleted by checkpoint retention`),
      );
    this.diskReads++;
    const loading = readCheckpointAsync(row.checkpoint_path, row.weights_hash).then((c) => ({
      version,
      hash: row.weights_hash,
      layoutHash: row.layout_hash,
      weights: new Uint8Array(c.weights.buffer, c.weights.byteOffset, c.weights.byteLength),
    }));
    // A failed read is not cached: the next request retries.
    loading.catch(() => this.cache.get(version) === loading && this.cache.delete(version));
    this.cache.set(version, loading);
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return loading;
  }
}
