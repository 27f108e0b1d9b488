import { z } from 'zod';
import { DATASET_NAMES } from '../../shared/data/dataset';

export const EvaluationOptionsSchema = z.object({
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  /** Labelled images the probe is fitted on. */
  trainImages: z.number().int().min(10).max(20_000).default(1000),
  /** Labelled images after the probe's training images that pick its L2 strength (bench:quality's protocol). */
  validationImages: z.number().int().min(0).max(20_000).default(1000),
  /** Labelled holdout images the probe is scored on. */
  testImages: z.number().int().min(10).max(5_000).default(500),
  /** Fixed reference images (the first of the holdout) for embedding health and drift. */
  referenceImages: z.number().int().min(8).max(2_000).default(256),
  /** Unused: the probe follows bench:quality's protocol (L-BFGS to convergence); kept so old settings still parse. */
  probeEpochs: z.number().int().min(1).max(2_000).default(200),
  batchSize: z.number().int().min(1).max(1024).default(64),
  /** A drop of more than this many accuracy points below the previous evaluated version raises a warning. */
  warnDropPoints: z.number().min(0).max(100).default(5),
  minStdRatio: z.number().min(0).default(0.05),
  minEffectiveRank: z.number().min(0).default(1.5),
  /** Seed of the random-init baseline encoder. */
  randomSeed: z.number().int().default(12345),
});
export type EvaluationOptions = z.infer<typeof EvaluationOptionsSchema>;

/** Reads FEDSSL_EVAL* env vars; FEDSSL_EVAL=0 disables evaluation. */
export function evaluationOptionsFromEnv(env = process.env): false | Partial<EvaluationOptions> {
  if (env.FEDSSL_EVAL === '0' || env.FEDSSL_EVAL === 'false') return false;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const raw = {
    dataset: env.FEDSSL_EVAL_DATASET,
    trainImages: num(env.FEDSSL_EVAL_TRAIN),
    validationImages: num(env.FEDSSL_EVAL_VALIDATION),
    testImages: num(env.FEDSSL_EVAL_TEST),
    referenceImages: num(env.FEDSSL_EVAL_REFERENCE),
    warnDropPoints: num(env.FEDSSL_EVAL_WARN_POINTS),
  };
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Partial<EvaluationOptions>;
}
