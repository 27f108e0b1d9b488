import { z } from 'zod';

/** Architecture of the SimCLR encoder + projection head. Part of every round config. */
export const ModelConfigSchema = z
  .object({
    inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    convFilters: z.array(z.number().int().positive()).min(1).max(8),
    convStrides: z.array(z.number().int().min(1).max(4)).min(1).max(8),
    kernelSize: z.number().int().min(1).max(7),
    headUnits: z.array(z.number().int().positive()).min(1).max(4),
    /** 'group': conv (no bias) → GroupNorm → ReLU; absent or 'none': conv + bias → ReLU. */
    norm: z.enum(['none', 'group']).optional(),
    /** GroupNorm groups; every conv's filter count must divide by it. Default 8. */
    groups: z.number().int().min(1).max(64).optional(),
    /**
     * The last feature map is average-pooled to poolGrid × poolGrid cells and flattened:
     * 1 (or absent) is global average pooling; 2 keeps coarse layout (4× the dimensions).
     */
    poolGrid: z.number().int().min(1).max(4).optional(),
  })
  .refine((c) => c.convFilters.length === c.convStrides.length, {
    message: 'convFilters and convStrides must have the same length',
  })
  .refine((c) => c.norm !== 'group' || c.convFilters.every((f) => f % (c.groups ?? 8) === 0), {
    message: 'every conv filter count must be divisible by the GroupNorm groups',
  })
  .refine((c) => finalSide(c) % (c.poolGrid ?? 1) === 0, {
    message: 'the last feature map side must be divisible by poolGrid',
  });
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/**
 * The product default (bench:quality's recipe): conv 32 → 64 → 128 → 128 (stride 2 after the first), each
 * conv → GroupNorm(8) → ReLU (no batch statistics to average across clients); the 4×4×128 map average-pooled
 * to 2×2 → a 512-d representation; head 512 → 256 → 128. ≈ 405k parameters. It trains with the recipe in
 * shared/ssl/recipe.ts. bench:quality measures it against the compact encoder below (see the README).
 */
export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  inputShape: [28, 28, 1],
  convFilters: [32, 64, 128, 128],
  convStrides: [1, 2, 2, 2],
  kernelSize: 3,
  headUnits: [256, 128],
  norm: 'group',
  groups: 8,
  poolGrid: 2,
};

/**
 * The default until 2026-12 (`--model compact`): the same convs with bias and ReLU, no normalization, global
 * average pooling to 128-d, head 128 → 128 → 64. ≈ 265k parameters, 0.6× the default's step and payload.
 */
export const COMPACT_MODEL_CONFIG: ModelConfig = {
  inputShape: [28, 28, 1],
  convFilters: [32, 64, 128, 128],
  convStrides: [1, 2, 2, 2],
  kernelSize: 3,
  headUnits: [128, 64],
};

/** A tiny model for fast tests and the WebGPU smoke test. */
export const TINY_MODEL_CONFIG: ModelConfig = {
  inputShape: [28, 28, 1],
  convFilters: [8, 16],
  convStrides: [2, 2],
  kernelSize: 3,
  headUnits: [16, 8],
};

/** Side of the last feature map ('same' padding: each stride s maps a side L to ⌈L/s⌉). */
export function finalSide(cfg: { inputShape: readonly number[]; convStrides: readonly number[] }): number {
  return cfg.convStrides.reduce((side, s) => Math.ceil(side / s), cfg.inputShape[0] ?? 0);
}

export function representationDim(cfg: ModelConfig): number {
  const g = cfg.poolGrid ?? 1;
  return cfg.convFilters[cfg.convFilters.length - 1]! * g * g;
}

/** One canonical form per architecture: absent optional fields read as their defaults. */
function canonicalArchitecture(c: ModelConfig): string {
  const grouped = c.norm === 'group';
  return JSON.stringify([
    c.inputShape,
    c.convFilters,
    c.convStrides,
    c.kernelSize,
    c.headUnits,
    grouped ? 'group' : 'none',
    grouped ? (c.groups ?? 8) : null,
    c.poolGrid ?? 1,
  ]);
}

/**
 * Whether two configs build the same encoder. Browser-safe (no node:util), so the server, `simulate` and the
 * page decide "is this the default encoder?" the same way.
 */
export function sameArchitecture(a: ModelConfig, b: ModelConfig): boolean {
  return canonicalArchitecture(a) === canonicalArchitecture(b);
}

/** The default encoder trains with the recipe (shared/ssl/recipe.ts); the others with the schema's defaults. */
export function isDefaultModel(c: ModelConfig): boolean {
  return sameArchitecture(c, DEFAULT_MODEL_CONFIG);
}
