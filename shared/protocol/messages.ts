import { z } from 'zod';
import { TrainingConfigSchema } from './round-config';
import { RoundOutcome, RoundPhase } from './phases';
import { BinarySchema } from './binary-schema';
import { SecAggRoundInfoSchema } from './secagg-messages';
import { ModelConfigSchema } from '../model/config';

/** socket.io event names. Client→server events carry an ack callback. */
export const EVENTS = {
  // server → client
  roundStart: 'round:start',
  roundEnd: 'round:end',
  status: 'server:status',
  serverError: 'server:error',
  // client → server (with ack)
  ready: 'client:ready',
  getModel: 'model:get',
  submitUpdate: 'update:submit',
} as const;

export { BinarySchema };

export const BackendSchema = z.enum(['webgpu', 'wasm', 'cpu', 'node-cpu', 'node-wasm']);

/** socket.io handshake `auth` payload. */
export const HandshakeAuthSchema = z.object({
  token: z.string().min(1).max(512).optional(),
  clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'clientId must be 8–64 url-safe characters'),
  name: z.string().max(64).optional(),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;

export const ClientReadySchema = z.object({
  backend: BackendSchema,
  /** Whether the client holds training data (it never sends how much: that is private). */
  hasData: z.boolean().optional(),
  /** Deprecated: older clients sent their example count; only > 0 is used. */
  numExamples: z.number().int().min(0).max(10_000_000).optional(),
  dataset: z.string().max(64).optional(),
});
export type ClientReady = z.infer<typeof ClientReadySchema>;

export const GetModelSchema = z.object({ version: z.number().int().min(0).optional() });
export type GetModel = z.infer<typeof GetModelSchema>;

export const UpdateSubmitSchema = z.object({
  roundId: z.number().int().min(1),
  modelVersion: z.number().int().min(0),
  numExamples: z.number().int().min(1).max(10_000_000),
  meanLoss: z.number().finite(),
  steps: z.number().int().min(1),
  delta: BinarySchema,
});
export type UpdateSubmit = z.infer<typeof UpdateSubmitSchema>;
/** What a client passes to emit (before zod's binary normalisation). */
export type UpdateSubmitOut = Omit<UpdateSubmit, 'delta'> & { delta: Uint8Array | ArrayBuffer };

export const RoundStartSchema = z.object({
  roundId: z.number().int().min(1),
  modelVersion: z.number().int().min(0),
  modelHash: z.string(),
  layoutHash: z.string(),
  training: TrainingConfigSchema,
  deadline: z.number(),
  /** Present when the round uses secure aggregation. */
  secagg: SecAggRoundInfoSchema.optional(),
});
export type RoundStart = z.infer<typeof RoundStartSchema>;

export const RoundEndSchema = z.object({
  roundId: z.number().int().min(1),
  outcome: z.nativeEnum(RoundOutcome),
  newVersion: z.number().int().optional(),
  reason: z.string().optional(),
});
export type RoundEnd = z.infer<typeof RoundEndSchema>;

export const ServerStatusSchema = z.object({
  phase: z.nativeEnum(RoundPhase),
  roundId: z.number().int().min(0),
  modelVersion: z.number().int().min(0),
  connectedClients: z.number().int().min(0),
});
export type ServerStatus = z.infer<typeof ServerStatusSchema>;

/**
 * Every reason code a client can receive, in one vocabulary: plain-mode acks, SecAgg+ rejections
 * (shared/secagg) and transport refusals all draw from this list.
 */
export const ERROR_CODES = [
  'invalid_message',
  'unauthenticated',
  'stale_round',
  'not_selected',
  'duplicate',
  'wrong_length',
  'non_finite',
  'norm_too_large',
  'wrong_version',
  'no_model',
  'internal_error',
  'rate_limited',
  'too_large',
  'disconnected',
  'wrong_phase',
  'unknown_client',
  'wrong_session',
  'sender_mismatch',
  'malformed',
  'bad_key',
  'not_neighbour',
  'missing_share',
  'bad_length',
  'not_eligible',
  'both_shares',
  'too_few',
  'decrypt_failed',
  'bad_params',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** server:error, server → client: why the server is about to drop this connection. */
export const ServerErrorSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string().max(1024) });
export type ServerError = z.infer<typeof ServerErrorSchema>;

/** A refused request's ack, in the one ErrorCode vocabulary. */
export const AckRejectionSchema = z.object({ ok: z.literal(false), code: z.enum(ERROR_CODES), reason: z.string() });
export type AckRejection = z.infer<typeof AckRejectionSchema>;

/** What an ack callback receives: `{ok: true, …fields}` or a rejection. */
export type Ack<T extends object = object> = ({ ok: true } & T) | AckRejection;

/** The ack schema of a request whose accepted answer carries `fields`. */
export function ackSchema<S extends z.ZodRawShape>(fields: S) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), ...fields }), AckRejectionSchema]);
}

/** model:get's answer: one version's weights as a binary attachment. */
export const ModelPayloadSchema = z.object({
  version: z.number().int().min(0),
  hash: z.string(),
  layoutHash: z.string(),
  weights: BinarySchema,
});
export type ModelPayload = z.infer<typeof ModelPayloadSchema>;

/** Acks of the client → server events (the client parses each one). */
export const PlainAckSchema = ackSchema({});
export const ReadyAckSchema = ackSchema({ modelVersion: z.number().int().min(0), modelConfig: ModelConfigSchema });
export const ModelAckSchema = ackSchema(ModelPayloadSchema.shape);

/** Named codes for the plain-mode and transport paths. */
export const ErrorCodes = {
  invalidMessage: 'invalid_message',
  unauthenticated: 'unauthenticated',
  staleRound: 'stale_round',
  notSelected: 'not_selected',
  duplicate: 'duplicate',
  wrongLength: 'wrong_length',
  nonFinite: 'non_finite',
  normTooLarge: 'norm_too_large',
  wrongVersion: 'wrong_version',
  noModel: 'no_model',
  internal: 'internal_error',
  rateLimited: 'rate_limited',
} as const satisfies Record<string, ErrorCode>;
