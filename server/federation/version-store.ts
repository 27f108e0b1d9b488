import { checkpointPath, encodeCheckpoint, nativeWeightsHash, writeCheckpoint } from '../registry/checkpoints';
import type { NewVersion, Registry, RoundStats } from '../registry/registry';
import { pruneCheckpoints } from '../registry/retention';
import {
  encodeStrategyState,
  readStrategyState,
  readStrategyStateAsync,
  strategyStatePath,
  writeStrategyState,
  type StrategyState,
} from '../registry/strategy-state';
import { nodeDurableFs, writeFileDurably, type DurableFs } from './durable-write';
import { type GlobalModel, checkpointDir, loadVersionAsync } from '../model/global-model';
import type { Strategy } from '../strategies/strategy';

/** What a committed round records about its new version, beyond the weights (provenance). */
export type VersionRecord = Omit<NewVersion, 'version' | 'layout_hash' | 'weights_hash' | 'checkpoint_path'>;

/**
 * Owns the global model's versions on disk and in the registry: checkpoint + optimiser state + registry row
 * for each commit, rollback, and retention. The coordinator never touches a checkpoint file itself.
 */
export class VersionStore {
  /** The strategy's state before any round, restored when rolling back to a version saved without one. */
  private readonly initialState: StrategyState;

  constructor(
    private readonly registry: Registry,
    private readonly strategy: Strategy,
  ) {
    this.initialState = strategy.saveState();
  }

  private get dir(): string {
    return checkpointDir(this.registry);
  }

  /** Gives the strategy the optimiser state that produced `version` (FedAdam's moments survive restarts). */
  restoreStrategy(version: number): void {
    const saved = readStrategyState(this.dir, version, this.strategy.name);
    if (saved) this.strategy.loadState(saved);
  }

  /** The next version number: versions only grow, rollbacks included. */
  nextVersion(current: number): number {
    return (this.registry.latestVersion()?.version ?? current) + 1;
  }

  /**
   * Writes the new weights and the strategy's state, then commits the version and the round in one
   * transaction. The files are written off the event loop (a synchronous 1 MB write + fsync + JS hash
   * held it 150–440 ms on the 2-core VM); the registry row is written only once both files are durable,
   * so a crash at any point leaves the previous version current. The strategy's state is captured
   * when this is called.
   */
  async commitRoundAsync(
    roundId: number,
    base: GlobalModel,
    weights: Float32Array,
    record: VersionRecord,
    stats: RoundStats,
    survivors: string[],
    fs: DurableFs = nodeDurableFs,
  ): Promise<GlobalModel> {
    const version = this.nextVersion(base.version);
    const dir = this.dir;
    const path = checkpointPath(dir, version);
    const hash = nativeWeightsHash(weights);
    const state = encodeStrategyState(version, this.strategy.name, this.strategy.saveState());
    await Promise.all([
      writeFileDurably(path, encodeCheckpoint({ version, layout: base.layout, weights }), fs),
      writeFileDurably(strategyStatePath(dir, version), state, fs),
    ]);
    this.registry.commitRound(
      roundId,
      { ...record, version, layout_hash: base.layout.hash, weights_hash: hash, checkpoint_path: path },
      stats,
      survivors,
    );
    return { ...base, version, weights, hash };
  }

  /** Synchronous commitRound (tests and tools); rounds use commitRoundAsync. */
  commitRound(
    roundId: number,
    base: GlobalModel,
    weights: Float32Array,
    record: VersionRecord,
    stats: RoundStats,
    survivors: string[],
  ): GlobalModel {
    const version = this.nextVersion(base.version);
    const { path, hash } = writeCheckpoint(this.dir, { version, layout: base.layout, weights });
    writeStrategyState(this.dir, version, this.strategy.name, this.strategy.saveState());
    this.registry.commitRound(
      roundId,
      { ...record, version, layout_hash: base.layout.hash, weights_hash: hash, checkpoint_path: path },
      stats,
      survivors,
    );
    return { ...base, version, weights, hash };
  }

  /**
   * Makes `toVersion` the global model again, recorded as a new version with that parent; the optimiser goes back
   * too. Reads and writes happen off the event loop (an admin request path), durably, before the registry row.
   */
  async rollback(current: GlobalModel, toVersion: number, fs: DurableFs = nodeDurableFs): Promise<GlobalModel> {
    const target = await loadVersionAsync(this.registry, toVersion, current.config);
    const saved = await readStrategyStateAsync(this.dir, toVersion, this.strategy.name);
    const version = this.nextVersion(current.version);
    const path = checkpointPath(this.dir, version);
    // The optimiser goes back only once the version is durable: a failed write leaves both model and state as they were.
    const restored = saved ?? this.initialState;
    const state = encodeStrategyState(version, this.strategy.name, restored);
    await Promise.all([
      writeFileDurably(path, encodeCheckpoint({ version, layout: target.layout, weights: target.weights }), fs),
      writeFileDurably(strategyStatePath(this.dir, version), state, fs),
    ]);
    const src = this.registry.getVersion(toVersion)!;
    this.registry.insertVersion({
      version,
      parent: toVersion,
      round_id: null,
      participants: 0,
      survivors: 0,
      examples: 0,
      mean_loss: null,
      config_hash: src.config_hash,
      layout_hash: target.layout.hash,
      weights_hash: target.hash,
      checkpoint_path: path,
      epsilon: src.epsilon,
      clip_norm: src.clip_norm,
      noise_multiplier: src.noise_multiplier,
      note: `rollback to v${toVersion}`,
    });
    this.strategy.loadState(restored);
    return { ...target, version };
  }

  /** Retention: deletes files of versions older than the newest `keep` (pinned and `live` kept); rows stay. */
  prune(keep: number, live: number): number[] {
    return pruneCheckpoints(this.registry, keep, [live]);
  }
}
