import { z } from 'zod';
import { BinarySchema } from './binary-schema';
import { uint32FromBytes } from './binary';

/** socket.io events of the SecAgg+ phases (client → server carry an ack). */
export const SECAGG_EVENTS = {
  // client → server
  advertise: 'secagg:advertise',
  shareKeys: 'secagg:share-keys',
  maskedInput: 'secagg:masked-input',
  unmask: 'secagg:unmask',
  // server → client
  roster: 'secagg:roster',
  routedShares: 'secagg:routed-shares',
  unmaskRequest: 'secagg:unmask-request',
} as const;

/** Parameters a client needs to mask; part of round:start in secure mode. */
export const SecAggRoundInfoSchema = z.object({
  sessionId: z.string().min(8).max(64),
  threshold: z.number().int().min(2),
  degree: z.number().int().min(1),
  clipNorm: z.number().positive(),
  bits: z.number().int().min(2).max(31),
  /** Example counts are capped at this before becoming the [0,1] weight. */
  weightCap: z.number().int().min(1),
  /** Distributed DP: the std of the Gaussian noise each client adds to its weighted, clipped delta. */
  clientNoiseStd: z.number().min(0).optional(),
  /** Adaptive clipping: append a masked, centred "update was not clipped" bit (b − ½). */
  reportUnclipped: z.boolean().optional(),
  /** DP rounds: every client has weight 1 and the vector has no weight coordinate (numExamples never leaves the client). */
  uniformWeights: z.boolean().optional(),
  /** The mean loss travels masked, clipped to [0, lossMax]; absent: the client reports no loss. */
  lossMax: z.number().positive().max(1e6).optional(),
  /**
   * Divergence-aware aggregation: the model's per-layer sizes. Clients scale each layer's delta by
   * their own weight a_ℓ before clipping; outside DP the a_ℓ also travel masked (shared/federation/divergence-weights.ts).
   */
  divergenceLayers: z.array(z.number().int().min(1)).min(1).max(4096).optional(),
  /** Distributed DP: per-client noise std on the centred bit and on the centred loss. */
  bitNoiseStd: z.number().min(0).optional(),
  lossNoiseStd: z.number().min(0).optional(),
  /** Cohort size n and the rates k and t were derived from (Bell et al. 2020); absent when the admin fixed the degree. */
  cohortSize: z.number().int().min(3).max(10_000_000).optional(),
  dropoutRate: z.number().min(0).lt(1).optional(),
  corruptFraction: z.number().min(0).lt(0.5).optional(),
  failureTarget: z.number().gt(0).lt(1).optional(),
});
export type SecAggRoundInfo = z.infer<typeof SecAggRoundInfoSchema>;

const header = { round: z.number().int().min(1), sessionId: z.string().max(64), from: z.string().max(64) };
const Key32 = BinarySchema.refine((b) => b.byteLength === 32, 'expected a 32-byte key');

export const AdvertiseWireSchema = z.object({
  type: z.literal('advertise'),
  ...header,
  cPk: Key32,
  sPk: Key32,
  selfSeedCommit: Key32,
});

const EncryptedShareSchema = z.object({
  from: z.string().max(64),
  to: z.string().max(64),
  nonce: BinarySchema,
  ciphertext: BinarySchema,
});

export const ShareKeysWireSchema = z.object({
  type: z.literal('shareKeys'),
  ...header,
  shares: z.array(EncryptedShareSchema).max(4096),
});

export const MaskedInputWireSchema = z.object({
  type: z.literal('maskedInput'),
  ...header,
  y: BinarySchema.transform((b, ctx) => {
    try {
      return uint32FromBytes(b);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** The mean loss travels inside y (see shared/secagg/masked-vector-layout.ts), never in clear. */
});

const OwnedShareSchema = z.object({ owner: z.string().max(64), share: BinarySchema });

export const UnmaskWireSchema = z.object({
  type: z.literal('unmask'),
  ...header,
  selfSeedShares: z.array(OwnedShareSchema).max(4096),
  maskKeyShares: z.array(OwnedShareSchema).max(4096),
});
