/** The augmentation policy (zod schema and defaults), kept free of tfjs so pages can import it. */
import { z } from 'zod';
import { formatIssues } from '../protocol/issues';

// ---------------------------------------------------------------------------
// Policy schema
// ---------------------------------------------------------------------------

const prob = z.number().min(0).max(1);

/** A [min, max] pair with lo ≤ min ≤ max ≤ hi. */
function range(lo: number, hi: number, opts: { exclusiveLo?: boolean } = {}) {
  const bound = opts.exclusiveLo ? z.number().gt(lo).lte(hi) : z.number().gte(lo).lte(hi);
  return z.tuple([bound, bound]).refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min <= max' });
}

const CropSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Fraction of the image area kept, like torchvision RandomResizedCrop. */
    scale: range(0, 1, { exclusiveLo: true }).default([0.5, 1]),
    /** Aspect ratio (width / height) of the crop, sampled log-uniformly. */
    ratio: range(0, 100, { exclusiveLo: true }).default([3 / 4, 4 / 3]),
  })
  .prefault({});

const AffineSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    maxRotationDeg: z.number().min(0).max(180).default(15),
    /** Max shift as a fraction of width/height. */
    maxTranslate: z.number().min(0).max(1).default(0.1),
  })
  .prefault({});

const FlipSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    p: prob.default(0.5),
  })
  .prefault({});

const ColorJitterSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Multiplicative factor drawn from [max(0, 1-b), 1+b]. */
    brightness: z.number().min(0).default(0.4),
    /** Blend factor with the per-image mean, drawn from [max(0, 1-c), 1+c]. */
    contrast: z.number().min(0).default(0.4),
    /** Blend factor with the grayscale image, drawn from [max(0, 1-s), 1+s]. 3 channels only. */
    saturation: z.number().min(0).default(0.4),
    p: prob.default(0.8),
  })
  .prefault({});

const GrayscaleSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    p: prob.default(0.2),
  })
  .prefault({});

const BlurSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Per-image sigma in pixels, uniform in this range. */
    sigma: range(0, 10, { exclusiveLo: true }).default([0.1, 1.2]),
    p: prob.default(0.5),
    /** Odd kernel width; the Gaussian is truncated to it and renormalised. */
    kernelSize: z
      .number()
      .int()
      .min(3)
      .max(9)
      .refine((k) => k % 2 === 1, { message: 'kernelSize must be odd' })
      .default(5),
  })
  .prefault({});

const NoiseSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    std: z.number().min(0).default(0.05),
    p: prob.default(0.5),
  })
  .prefault({});

/** Defaults equal defaultPolicy(1): crop, affine, blur, noise on; colour ops and flip off. */
export const AugmentationPolicySchema = z.strictObject({
  crop: CropSchema,
  affine: AffineSchema,
  flip: FlipSchema,
  colorJitter: ColorJitterSchema,
  grayscale: GrayscaleSchema,
  blur: BlurSchema,
  noise: NoiseSchema,
});

export type AugmentationPolicy = z.output<typeof AugmentationPolicySchema>;
export type AugmentationPolicyInput = z.input<typeof AugmentationPolicySchema>;

/** Validates and fills defaults; throws an Error naming every bad field. */
export function parsePolicy(input: unknown): AugmentationPolicy {
  const r = AugmentationPolicySchema.safeParse(input);
  if (!r.success)
    throw new Error(
      `Invalid augmentation policy:\n${formatIssues(r.error, { root: 'policy', max: 20, separator: '\n' })}`,
    );
  return r.data;
}

/** Grayscale default for 1 channel; 3 channels add colour jitter and random grayscale. */
export function defaultPolicy(channels: number): AugmentationPolicy {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`defaultPolicy: channels must be a positive integer, got ${channels}`);
  }
  const base = AugmentationPolicySchema.parse({});
  if (channels !== 3) return base;
  return {
    ...base,
    colorJitter: { ...base.colorJitter, enabled: true },
    grayscale: { ...base.grayscale, enabled: true },
  };
}

// ---------------------------------------------------------------------------
// Random parameters (pure JS, a few numbers per image)
// ---------------------------------------------------------------------------
