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

export const DEFAULT_MODEL_RESEND_WINDOW_MS = 60_000;

/**
 * Which (client id, version) pairs were sent within the last `windowMs`, so that `model:get` sends
 * each version at most once per client in that window, reconnects included. Bounded: the oldest
 * entries go first once `capacity` is reached.
 */
export class RecentSends {
  private readonly sent = new Map<string, number>(); // key → sent at; oldest first

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 200_000,
  ) {}

  /** Records a send now and returns 0, or returns the milliseconds until the version may be sent again. */
  claim(clientId: string, version: number, now: number): number {
    const key = `${version}\n${clientId}`;
    const at = this.sent.get(key);
    if (at !== undefined && now - at < this.windowMs) return this.windowMs - (now - at);
    this.sent.delete(key);
    this.sent.set(key, now);
    // Expired entries sit at the front (insertion order is send order).
    for (const [k, t] of this.sent) {
      if (this.sent.size <= this.capacity && now - t < this.windowMs) break;
      this.sent.delete(k);
    }
    return 0;
  }

  /** Forgets a send that failed (the client may ask again at once). */
  release(clientId: string, version: number): void {
    this.sent.delete(`${version}\n${clientId}`);
  }
}
