/**
 * What the admin REST API and the `/admin` socket namespace send: zod schemas, types inferred from them.
 * The server declares its registry rows and status with these types; the console parses every response with them.
 */
import { z } from 'zod';
import { RoundOutcome, RoundPhase } from './phases';
import { RoundConfigSchema } from './round-config';
import { ERROR_CODES } from './messages';
import type { EmbeddingHealth } from '../ssl/embedding-health';

// --- registry rows (SQLite columns, as the REST API returns them) ------------------------------------------

export const TokenKindSchema = z.enum(['client', 'admin', 'metrics']);
export type TokenKind = z.infer<typeof TokenKindSchema>;

export const TokenRowSchema = z.object({
  id: z.number(),
  kind: TokenKindSchema,
  label: z.string().nullable(),
  created_at: z.number(),
  expires_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});
export type TokenRow = z.infer<typeof TokenRowSchema>;

export const VersionRowSchema = z.object({
  version: z.number(),
  parent: z.number().nullable(),
  round_id: z.number().nullable(),
  created_at: z.number(),
  participants: z.number(),
  survivors: z.number(),
  examples: z.number(),
  mean_loss: z.number().nullable(),
  config_hash: z.string(),
  layout_hash: z.string(),
  weights_hash: z.string(),
  checkpoint_path: z.string(),
  epsilon: z.number().nullable(),
  clip_norm: z.number().nullable(),
  noise_multiplier: z.number().nullable(),
  probe_accuracy: z.number().nullable(),
  probe_random: z.number().nullable(),
  /** JSON of a `StoredHealth` once the version was evaluated. */
  health_json: z.string().nullable(),
  note: z.string().nullable(),
  /** 1: kept by checkpoint retention whatever its age. */
  pinned: z.number(),
  /** When retention deleted its checkpoint file (the row stays). */
  pruned_at: z.number().nullable(),
});
export type VersionRow = z.infer<typeof VersionRowSchema>;

export const RoundRowSchema = z.object({
  id: z.number(),
  base_version: z.number(),
  new_version: z.number().nullable(),
  started_at: z.number(),
  ended_at: z.number().nullable(),
  outcome: z.enum(RoundOutcome).nullable(),
  reason: z.string().nullable(),
  sampling: z.string(),
  cohort_size: z.number(),
  survivors: z.number(),
  dropouts: z.number(),
  mean_loss: z.number().nullable(),
  bytes_up: z.number(),
  bytes_down: z.number(),
  aggregate_ms: z.number().nullable(),
  config_json: z.string(),
});
export type RoundRow = z.infer<typeof RoundRowSchema>;

export const ClientRowSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  token_id: z.number().nullable(),
  first_seen: z.number(),
  last_seen: z.number(),
  rounds_joined: z.number(),
  backend: z.string().nullable(),
  /** SQLite boolean (0 or 1). */
  removed: z.number(),
});
export type ClientRow = z.infer<typeof ClientRowSchema>;

/** A client row as GET /api/admin/clients returns it: with its live connection state. */
export const AdminClientViewSchema = ClientRowSchema.extend({ connected: z.boolean(), eligible: z.boolean() });
export type AdminClientView = z.infer<typeof AdminClientViewSchema>;

export const AuditRowSchema = z.object({
  id: z.number(),
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  details: z.string().nullable(),
});
export type AuditRow = z.infer<typeof AuditRowSchema>;

/** POST /api/admin/tokens: the token in clear, returned once. */
export const CreatedTokenSchema = z.object({ id: z.number(), token: z.string() });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

// --- model quality (background evaluation) -----------------------------------------------------------------

export const EmbeddingHealthSchema = z.object({
  meanStd: z.number(),
  stdRatio: z.number(),
  effectiveRank: z.number(),
  collapsed: z.boolean(),
  n: z.number(),
  d: z.number(),
}) satisfies z.ZodType<EmbeddingHealth>;

/** What a version's `health_json` holds once it was evaluated. */
export const StoredHealthSchema = z.object({
  health: EmbeddingHealthSchema,
  /** Mean cosine distance of the reference embeddings to those of `driftFrom` (the parent version). */
  drift: z.number().nullable(),
  driftFrom: z.number().nullable(),
  trainCount: z.number(),
  testCount: z.number(),
  referenceCount: z.number(),
  ms: z.number(),
  evaluatedAt: z.number(),
});
export type StoredHealth = z.infer<typeof StoredHealthSchema>;

/** A version's stored health, or undefined when it has none or it does not parse. */
export function storedHealthOf(v: Pick<VersionRow, 'health_json'>): StoredHealth | undefined {
  if (!v.health_json) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(v.health_json);
  } catch {
    return undefined;
  }
  const parsed = StoredHealthSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export const QualityWarningSchema = z.object({
  kind: z.enum(['probe-drop', 'collapse']),
  version: z.number(),
  message: z.string(),
  at: z.number(),
  previousVersion: z.number().optional(),
  probeAccuracy: z.number().optional(),
  previousAccuracy: z.number().optional(),
});
export type QualityWarning = z.infer<typeof QualityWarningSchema>;

/**
 * The baselines every version's probe is read against, with the protocol that produced all three numbers
 * (shared/ssl/probe-baselines.ts). `raw`/`random` are null until the first evaluation computed them.
 */
export const ProbeBaselinesSchema = z.object({
  raw: z.number().min(0).max(1).nullable(),
  random: z.number().min(0).max(1).nullable(),
  protocol: z.string().max(1000),
  labels: z.number().int().min(0),
  validation: z.number().int().min(0),
  test: z.number().int().min(0),
});
export type ProbeBaselines = z.infer<typeof ProbeBaselinesSchema>;

/** The evaluation service's state as the console reads it (the server sends more; the rest is dropped). */
export const EvaluationStateSchema = z.object({
  enabled: z.boolean(),
  current: z.number().nullable().optional(),
  pending: z.number().nullable().optional(),
  warnings: z.array(QualityWarningSchema).optional(),
  baselines: ProbeBaselinesSchema.optional(),
});

/** The `evaluated` event's fields the console uses (the baselines may have just been computed). */
export const EvaluatedEventSchema = z.object({
  version: z.number(),
  probeAccuracy: z.number(),
  probeRandom: z.number(),
  probeRaw: z.number().optional(),
});
export type EvaluationState = z.infer<typeof EvaluationStateSchema>;

// --- coordinator status --------------------------------------------------------------------------------------

export const CoordinatorStatusSchema = z.object({
  phase: z.enum(RoundPhase),
  paused: z.boolean(),
  roundId: z.number(),
  modelVersion: z.number(),
  deadline: z.number().nullable(),
  cohort: z.array(z.string()),
  delivered: z.array(z.string()),
  dropped: z.array(z.string()),
  connectedClients: z.number(),
  eligibleClients: z.number(),
  privacy: z
    .object({
      epsilon: z.number(),
      target: z.number(),
      delta: z.number(),
      steps: z.number(),
      exhausted: z.string().optional(),
    })
    .optional(),
  /** The last secure round's degree k, threshold t and predicted failure probability (null for a hand-set degree). */
  secagg: z.object({ n: z.number(), k: z.number(), t: z.number(), predictedFailure: z.number().nullable() }).optional(),
});
export type CoordinatorStatus = z.infer<typeof CoordinatorStatusSchema>;

/** GET /api/admin/status: the status plus the round config in force. */
export const AdminStatusResponseSchema = CoordinatorStatusSchema.extend({ config: RoundConfigSchema });

// --- the /admin socket namespace -----------------------------------------------------------------------------

/** `status` events carry the server clock so the console's countdown ignores local clock skew. */
export const StatusEventSchema = CoordinatorStatusSchema.extend({ serverTime: z.number() });

/** Sent to each console on connect. */
export const AdminSnapshotSchema = z.object({
  status: CoordinatorStatusSchema,
  config: RoundConfigSchema,
  evaluation: EvaluationStateSchema,
  serverTime: z.number(),
});

/** An update the coordinator refused. */
export const RejectedEventSchema = z.object({ clientId: z.string(), code: z.enum(ERROR_CODES), reason: z.string() });

/** The version number an evaluation started on. */
export const EvaluationStartedSchema = z.number();
