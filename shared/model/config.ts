import { z } from 'zod';

/** Architecture of the SimCLR encoder + projection head. Part of every round config. */
export const ModelConfigSchema = z.object({
  inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  convFilters: z.array(z.number().int().positive()).min(1).max(8),
  convStrides: z.array(z.number().int().min(1).max(4)).min(1).max(8),
  kernelSize: z.number().int().min(1).max(7),
  headUnits: z.array(z.number().int().positive()).min(1).max(4),
}).refine((c) => c.convFilters.length === c.convStrides.length, {
  message: 'convFilters and convStrides must have the same length',
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Default: conv 32 → 64 → 128 → 128 (stride 2 after the first), GAP, head 128 → 128 → 64. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = {
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

export function representationDim(cfg: ModelConfig): number {
  return cfg.convFilters[cfg.convFilters.length - 1]!;
}
