import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { type ModelConfig, ModelConfigSchema, DEFAULT_MODEL_CONFIG } from '../../shared/model/config';
import { flattenWeights, type WeightLayout } from '../../shared/model/weights';
import type { Registry } from '../registry/registry';
import { readCheckpoint, readCheckpointAsync, writeCheckpoint } from '../registry/checkpoints';

export interface GlobalModel {
  version: number;
  weights: Float32Array;
  layout: WeightLayout;
  /** Content hash clients use to cache weights. */
  hash: string;
  config: ModelConfig;
}

export function configHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

export function checkpointDir(registry: Registry): string {
  return join(registry.dataDir, 'checkpoints');
}

/**
 * Loads the latest committed global model, creating version 0 (random init)
 * on first start. The model architecture is fixed per data directory: a stored
 * config wins over `requested`, since its weights cannot be reused otherwise.
 */
export function loadOrCreateGlobalModel(
  registry: Registry,
  requested: ModelConfig = DEFAULT_MODEL_CONFIG,
  seed = 0,
): GlobalModel {
  const stored = registry.getSetting('model_config');
  const config = stored ? ModelConfigSchema.parse(JSON.parse(stored)) : ModelConfigSchema.parse(requested);
  const latest = registry.latestVersion();
  if (latest) return loadVersion(registry, latest.version, config);

  const model = createSimclrModel(config, seed);
  const { layout, data } = flattenWeights(model);
  disposeSimclrModel(model);
  const { path, hash } = writeCheckpoint(checkpointDir(registry), { version: 0, layout, weights: data });
  registry.setSetting('model_config', JSON.stringify(config));
  registry.insertVersion({
    version: 0,
    parent: null,
    round_id: null,
    participants: 0,
    survivors: 0,
    examples: 0,
    mean_loss: null,
    config_hash: configHash(config),
    layout_hash: layout.hash,
    weights_hash: hash,
    checkpoint_path: path,
    epsilon: 0,
    clip_norm: null,
    noise_multiplier: null,
    note: 'random initialisation',
  });
  return { version: 0, weights: data, layout, hash, config };
}

/** The registry row of a version whose checkpoint is still on disk; throws naming why not. */
function loadableRow(registry: Registry, version: number) {
  const row = registry.getVersion(version);
  if (!row) throw new Error(`model version ${version} does not exist`);
  if (row.pruned_at !== null)
    throw new Error(
      `the checkpoint of model version ${version} was deleted by checkpoint retention (pin versions to keep them)`,
    );
  return row;
}

function modelConfigOf(registry: Registry, config?: ModelConfig): ModelConfig {
  return config ?? ModelConfigSchema.parse(JSON.parse(registry.getSetting('model_config') ?? 'null'));
}

export function loadVersion(registry: Registry, version: number, config?: ModelConfig): GlobalModel {
  const row = loadableRow(registry, version);
  const ckpt = readCheckpoint(row.checkpoint_path, row.weights_hash);
  const cfg = modelConfigOf(registry, config);
  return { version: row.version, weights: ckpt.weights, layout: ckpt.layout, hash: row.weights_hash, config: cfg };
}

/** loadVersion off the event loop: async read, native hash (request paths such as the admin rollback). */
export async function loadVersionAsync(
  registry: Registry,
  version: number,
  config?: ModelConfig,
): Promise<GlobalModel> {
  const row = loadableRow(registry, version);
  const ckpt = await readCheckpointAsync(row.checkpoint_path, row.weights_hash);
  const cfg = modelConfigOf(registry, config);
  return { version: row.version, weights: ckpt.weights, layout: ckpt.layout, hash: row.weights_hash, config: cfg };
}
