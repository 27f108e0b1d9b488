import { z } from 'zod';
import { AugmentationPolicySchema } from '../ssl/augment-policy';
import { assertNoOverflow } from '../secagg/quantize';

/** Node fires a timer longer than 2^31 − 1 ms at once, so every delay is bounded by it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A per-round learning rate (shared/federation/round-learning-rate.ts): training.learningRate is the peak,
 * reached by linear warm-up over `warmupRounds`, then cosine decay to finalFraction × peak at `totalRounds`,
 * where it stays. Rounds count by the global model version a round starts from.
 */
export const RoundScheduleSchema = z
  .object({
    warmupRounds: z.number().int().min(0).max(1_000_000).default(0),
    totalRounds: z.number().int().min(1).max(1_000_000),
    finalFraction: z.number().min(0).max(1).default(0.05),
  })
  .refine((s) => s.warmupRounds <= s.totalRounds, {
    message: 'warmupRounds must not exceed totalRounds',
    path: ['warmupRounds'],
  });
export type RoundSchedule = z.infer<typeof RoundScheduleSchema>;

/** What a client needs to train one round. Sent with every round start (learningRate already scheduled). */
export const TrainingConfigSchema = z.object({
  localSteps: z.number().int().min(1).max(10_000).default(10),
  batchSize: z.number().int().min(2).max(1024).default(32),
  learningRate: z.number().positive().max(1).default(1e-3),
  temperature: z.number().positive().max(10).default(0.5),
  augmentation: AugmentationPolicySchema.optional(),
  /** Absent: learningRate is constant. */
  schedule: RoundScheduleSchema.optional(),
});
export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

export const CohortSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), size: z.number().int().min(1) }),
  z.object({ mode: z.literal('poisson'), rate: z.number().gt(0).max(1) }),
]);
export type Cohort = z.infer<typeof CohortSchema>;

export const SecureAggregationConfigSchema = z.object({
  enabled: z.boolean().default(true),
  /** Clients clip their delta to this L2 norm before quantizing (the DP clip when DP is on). */
  clipNorm: z.number().positive().default(10),
  /** Fixed-point bits per coordinate; default: the most that cannot overflow for the cohort size. */
  bits: z.number().int().min(2).max(31).optional(),
  /**
   * Neighbours per client (SecAgg+ graph degree). Default: derived with the threshold from the
   * cohort size and the three rates below (shared/secagg/parameters.ts, Bell et al. 2020).
   * Setting it by hand turns that derivation (and the clients' check of it) off.
   */
  degree: z.number().int().min(2).optional(),
  /** δ: expected fraction of a cohort that drops out of a round. */
  dropoutRate: z.number().min(0).lt(1).default(0.3),
  /** γ: fraction of clients that may collude with the server. */
  corruptFraction: z.number().min(0).lt(0.5).default(0.1),
  /** η: tolerated per-round probability that the round fails (or that colluders could unmask someone). */
  failureTarget: z.number().gt(0).lt(1).default(1e-6),
  /** Clients clip their mean loss to [0, lossMax] before it travels masked. */
  lossMax: z.number().positive().max(1e6).default(20),
  /** Example counts are capped here and scaled to a [0,1] weight that travels masked. */
  weightCap: z.number().int().min(1).default(1000),
  /**
   * Adaptive clipping (Andrew et al. 2021): clients report a masked "not clipped" bit,
   * and C ← C·exp(−η(b̄ − γ)) after each round, starting from clipNorm.
   */
  adaptiveClip: z
    .object({
      enabled: z.boolean().default(false),
      targetQuantile: z.number().gt(0).lt(1).default(0.5),
      learningRate: z.number().positive().default(0.2),
    })
    .default({ enabled: false, targetQuantile: 0.5, learningRate: 0.2 }),
});
export type SecureAggregationConfig = z.infer<typeof SecureAggregationConfigSchema>;

/**
 * Client-level DP-FedAvg (McMahan et al. 2018) on top of secure aggregation: the
 * clip is secureAggregation.clipNorm, noise N(0, (z·C)²) goes on the unmasked sum,
 * the denominator is the expected cohort size, and an RDP accountant enforces ε.
 */
export const PrivacyConfigSchema = z.object({
  enabled: z.boolean().default(false),
  /**
   * central: the server adds N(0, (z·C)²) to the unmasked sum.
   * distributed: each client adds N(0, (z·C)²/n_expected) before masking, so even the
   * unmasked sum is noised (full noise only if all expected clients survive).
   */
  mode: z.enum(['central', 'distributed']).default('central'),
  noiseMultiplier: z.number().positive().default(1),
  targetEpsilon: z.number().positive().default(8),
  /** Default: below 1 / enrolled clients (min(1e-5, 0.1/N)), decided when rounds start. */
  delta: z.number().gt(0).lt(1).optional(),
  /**
   * Report the (masked, noised) mean loss in DP rounds. Its noise σ_ℓ = lossMax·m/20 takes a
   * share of the budget like the adaptive-clip bit, so the deltas get less (see shared/privacy/noise-split.ts).
   */
  reportLoss: z.boolean().default(false),
});
export type PrivacyConfig = z.infer<typeof PrivacyConfigSchema>;

export const RobustAggregationSchema = z.object({
  method: z.enum(['mean', 'trimmed-mean', 'median']).default('mean'),
  /** Trimmed mean: the fraction dropped from each side per coordinate. */
  trimFraction: z.number().min(0).lt(0.5).default(0.1),
  /** Each delta is clipped to this L2 norm before combining (none when absent). */
  normBound: z.number().positive().optional(),
});

/** Server-side round settings, editable by the admin. */
export const RoundConfigSchema = z
  .object({
    training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
    cohort: CohortSchema.default({ mode: 'fixed', size: 4 }),
    /** Wait for this many eligible connected clients before selecting a cohort. */
    minClients: z.number().int().min(1).default(3),
    /** A round commits only if at least this many updates arrive. */
    minSurvivors: z.number().int().min(1).default(2),
    /** Milliseconds allowed for local training + upload. */
    trainDeadlineMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(120_000),
    /** Milliseconds allowed for each secure-aggregation phase. */
    phaseDeadlineMs: z.number().int().min(500).max(MAX_TIMER_MS).default(30_000),
    /** Updates with a larger L2 norm are rejected as implausible. */
    maxUpdateNorm: z.number().positive().default(1e4),
    /** Pause between rounds. */
    roundIntervalMs: z.number().int().min(0).max(MAX_TIMER_MS).default(1000),
    /** SecAgg+: the server only sees the sum of clipped, quantized, masked updates. */
    secureAggregation: SecureAggregationConfigSchema.default(SecureAggregationConfigSchema.parse({})),
    privacy: PrivacyConfigSchema.default(PrivacyConfigSchema.parse({})),
    /**
     * Plain mode only (the server must see each update): 'mean' is the example-weighted mean
     * (counts capped at secureAggregation.weightCap); 'trimmed-mean' and 'median' combine
     * norm-bounded deltas coordinate-wise and ignore the claimed counts.
     */
    robustAggregation: RobustAggregationSchema.default(RobustAggregationSchema.parse({})),
    /**
     * 'fedavg': the (example-weighted) mean of the deltas. 'divergence': per-layer weights in the spirit of
     * L-DAWA, computed by each client and summed under secure aggregation (shared/federation/divergence-weights.ts).
     */
    aggregation: z.enum(['fedavg', 'divergence']).default('fedavg'),
  })
  .superRefine((c, ctx) => {
    if (c.privacy.enabled) {
      // The accountant models Poisson sampling; a fixed-size cohort would make its ε wrong.
      if (c.cohort.mode !== 'poisson')
        ctx.addIssue({
          code: 'custom',
          path: ['cohort', 'mode'],
          message: 'differential privacy needs Poisson sampling (cohort.mode "poisson"): the RDP accountant assumes it',
        });
      if (!c.secureAggregation.enabled)
        ctx.addIssue({
          code: 'custom',
          path: ['secureAggregation', 'enabled'],
          message:
            'differential privacy runs on top of secure aggregation (its clip and capped weights bound the sensitivity)',
        });
    }
    if (c.aggregation === 'divergence' && !c.secureAggregation.enabled)
      ctx.addIssue({
        code: 'custom',
        path: ['aggregation'],
        message: 'divergence-aware aggregation is implemented on the secure path: enable secure aggregation',
      });
    if (c.robustAggregation.method !== 'mean' && c.secureAggregation.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['robustAggregation', 'method'],
        message: 'robust aggregation needs plain mode: with secure aggregation the server sees only the sum',
      });
    }
    if (!c.secureAggregation.enabled) return;
    // Shamir needs a threshold t ≥ 2, so a secure round needs at least 3 clients.
    if (c.minClients < 3)
      ctx.addIssue({
        code: 'custom',
        path: ['minClients'],
        message: 'secure aggregation needs minClients ≥ 3 (Shamir threshold ≥ 2)',
      });
    if (c.cohort.mode === 'fixed' && c.cohort.size < 3)
      ctx.addIssue({
        code: 'custom',
        path: ['cohort', 'size'],
        message: 'secure aggregation needs a cohort of at least 3',
      });
    // A fixed cohort's largest sum is known now: refuse a width that could wrap modulo 2^32.
    if (c.cohort.mode === 'fixed' && c.secureAggregation.bits !== undefined) {
      try {
        assertNoOverflow(c.cohort.size, c.secureAggregation.bits);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['secureAggregation', 'bits'], message: (err as Error).message });
      }
    }
  });
export type RoundConfig = z.infer<typeof RoundConfigSchema>;
/** What an operator writes: every field optional, defaults filled in by the schema. */
export type RoundConfigInput = z.input<typeof RoundConfigSchema>;
