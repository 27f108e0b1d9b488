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

/** Every SecAgg+ message names its round and session, so replays from another round or session are refused. */
const round = z.number().int().min(1);
const sessionId = z.string().max(64);
const clientId = z.string().max(64);
const header = { round, sessionId, from: clientId };
const Key32 = BinarySchema.refine((b) => b.byteLength === 32, 'expected a 32-byte key');
/** Most entries in one list (shares, roster); the degree is capped far below this (shared/secagg/parameters.ts). */
const MAX_LIST = 4096;
/** Most ids in the unmask request's survivor and dropout lists (one per cohort member). */
const MAX_COHORT_IDS = 100_000;

/** Phase 1, client → server: two X25519 public keys and a commitment to the self-mask seed. */
export const AdvertiseWireSchema = z.object({
  type: z.literal('advertise'),
  ...header,
  /** Public key for agreeing the share-encryption keys. */
  cPk: Key32,
  /** Public key for agreeing the pairwise mask seeds. */
  sPk: Key32,
  /** SHA-256 commitment to the self-mask seed (see keys.selfSeedCommitment). */
  selfSeedCommit: Key32,
});

/** One neighbour in the roster; the client checks key lengths and repeats itself (shared/secagg/client.ts). */
export const RosterEntrySchema = z.object({ id: clientId, cPk: BinarySchema, sPk: BinarySchema });

/** Server → client after AdvertiseKeys: the client's neighbours that advertised. */
export const RosterWireSchema = z.object({
  type: z.literal('roster'),
  round,
  sessionId,
  to: clientId,
  neighbours: z.array(RosterEntrySchema).max(MAX_LIST),
});

/** One encrypted share bundle u → v; from/to are in clear for routing and bound as AEAD associated data. */
export const EncryptedShareSchema = z.object({
  from: clientId,
  to: clientId,
  /** 12-byte random ChaCha20-Poly1305 nonce. */
  nonce: BinarySchema,
  /** Ciphertext with the 16-byte Poly1305 tag appended. */
  ciphertext: BinarySchema,
});

/** Phase 2, client → server: one encrypted share bundle per neighbour. */
export const ShareKeysWireSchema = z.object({
  type: z.literal('shareKeys'),
  ...header,
  shares: z.array(EncryptedShareSchema).max(MAX_LIST),
});

/** Server → client after ShareKeys: the bundles addressed to this client. */
export const RoutedSharesWireSchema = z.object({
  type: z.literal('routedShares'),
  round,
  sessionId,
  to: clientId,
  shares: z.array(EncryptedShareSchema).max(MAX_LIST),
});

/** Phase 3, client → server: the masked, quantized update. */
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

/** Server → surviving clients: who survived (masked input received) and who dropped (shared keys, no input). */
export const UnmaskRequestWireSchema = z.object({
  type: z.literal('unmaskRequest'),
  round,
  sessionId,
  survivors: z.array(clientId).max(MAX_COHORT_IDS),
  dropped: z.array(clientId).max(MAX_COHORT_IDS),
});

export const OwnedShareSchema = z.object({
  /** Client whose secret this is a share of. */
  owner: clientId,
  /** Shamir share (secret length + 1 byte x-coordinate). */
  share: BinarySchema,
});

/** Phase 4, client → server: self-seed shares of survivors, mask-key shares of dropped clients. */
export const UnmaskWireSchema = z.object({
  type: z.literal('unmask'),
  ...header,
  selfSeedShares: z.array(OwnedShareSchema).max(MAX_LIST),
  maskKeyShares: z.array(OwnedShareSchema).max(MAX_LIST),
});

// The message types, inferred (binary fields are typed arrays after parsing); shared/secagg re-exports them.
export type AdvertiseMsg = z.infer<typeof AdvertiseWireSchema>;
export type RosterEntry = z.infer<typeof RosterEntrySchema>;
export type RosterMsg = z.infer<typeof RosterWireSchema>;
export type EncryptedShare = z.infer<typeof EncryptedShareSchema>;
export type ShareKeysMsg = z.infer<typeof ShareKeysWireSchema>;
export type RoutedSharesMsg = z.infer<typeof RoutedSharesWireSchema>;
export type MaskedInputMsg = z.infer<typeof MaskedInputWireSchema>;
export type UnmaskRequestMsg = z.infer<typeof UnmaskRequestWireSchema>;
export type OwnedShare = z.infer<typeof OwnedShareSchema>;
export type UnmaskMsg = z.infer<typeof UnmaskWireSchema>;
/** What every SecAgg+ message carries (header checks in shared/secagg). */
export type MsgHeader = Pick<AdvertiseMsg, 'round' | 'sessionId'>;
