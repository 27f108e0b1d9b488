/**
 * The one wire vocabulary: every socket.io message, in both directions, plain and SecAgg+, is a member of
 * WireMessageSchema, discriminated by `type`. Types are inferred from it; receivers dispatch on `msg.type`.
 * Adding a message: add its schema to CLIENT_MESSAGES or SERVER_MESSAGES and its event to EVENTS or
 * SECAGG_EVENTS (the compiler refuses one without the other, see WIRE_EVENTS).
 *
 * On the wire the socket.io event names the message, so plain payloads need not repeat `type`;
 * `parseWire` tags them from the event, and refuses a payload whose own `type` names another message.
 */
import { z } from 'zod';
import { formatIssues } from './issues';
import {
  ClientReadySchema,
  EVENTS,
  GetModelSchema,
  RoundEndSchema,
  RoundStartSchema,
  ServerErrorSchema,
  ServerStatusSchema,
  UpdateSubmitSchema,
} from './messages';
import {
  AdvertiseWireSchema,
  MaskedInputWireSchema,
  RosterWireSchema,
  RoutedSharesWireSchema,
  SECAGG_EVENTS,
  ShareKeysWireSchema,
  UnmaskRequestWireSchema,
  UnmaskWireSchema,
} from './secagg-messages';

/** The one list, in two halves by direction. Plain bodies (also parsed alone by the transport) get their tag here. */
export const CLIENT_MESSAGES = [
  ClientReadySchema.extend({ type: z.literal('ready') }),
  GetModelSchema.extend({ type: z.literal('getModel') }),
  UpdateSubmitSchema.extend({ type: z.literal('submitUpdate') }),
  AdvertiseWireSchema,
  ShareKeysWireSchema,
  MaskedInputWireSchema,
  UnmaskWireSchema,
] as const;

export const SERVER_MESSAGES = [
  RoundStartSchema.extend({ type: z.literal('roundStart') }),
  RoundEndSchema.extend({ type: z.literal('roundEnd') }),
  ServerStatusSchema.extend({ type: z.literal('status') }),
  ServerErrorSchema.extend({ type: z.literal('serverError') }),
  RosterWireSchema,
  RoutedSharesWireSchema,
  UnmaskRequestWireSchema,
] as const;

export const WireMessageSchema = z.discriminatedUnion('type', [...CLIENT_MESSAGES, ...SERVER_MESSAGES]);
export type WireMessage = z.infer<typeof WireMessageSchema>;
export type WireType = WireMessage['type'];
export type MessageOf<T extends WireType> = Extract<WireMessage, { type: T }>;
/** Messages a client sends (each with an ack) and those the server sends. */
export type ClientMessageType = z.infer<(typeof CLIENT_MESSAGES)[number]>['type'];
export type ServerMessageType = z.infer<(typeof SERVER_MESSAGES)[number]>['type'];
/** The SecAgg+ members (their events are SECAGG_EVENTS; their binary fields travel packed, see binary-pack.ts). */
export type SecAggType = Extract<WireType, keyof typeof SECAGG_EVENTS>;
/** The SecAgg+ messages a client sends, one per protocol phase. */
export type SecAggClientType = Extract<ClientMessageType, SecAggType>;

/** Every message's socket.io event; exactly the union's types, no more, no fewer. */
export const WIRE_EVENTS = { ...EVENTS, ...SECAGG_EVENTS } satisfies Record<WireType, string> &
  Record<Exclude<keyof typeof EVENTS | keyof typeof SECAGG_EVENTS, WireType>, never>;
export type WireEvent = (typeof WIRE_EVENTS)[WireType];

const TYPE_OF_EVENT = new Map<string, WireType>(
  WireMessageSchema.options.map((o) => [WIRE_EVENTS[o.shape.type.value], o.shape.type.value]),
);

/** The message type an event carries, or undefined for an event outside the vocabulary. */
export function typeOfEvent(event: string): WireType | undefined {
  return TYPE_OF_EVENT.get(event);
}

export type WireParse<T extends WireType> = { ok: true; msg: MessageOf<T> } | { ok: false; reason: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function hasType<T extends WireType>(msg: WireMessage, type: T): msg is MessageOf<T> {
  return msg.type === type;
}

/**
 * Parses one payload received as a `type` message (the event's type, see typeOfEvent). Binary fields
 * come out as typed arrays; failures are one formatted line (formatIssues), never an exception.
 */
export function parseWire<T extends WireType>(type: T, raw: unknown): WireParse<T> {
  if (!isPlainObject(raw)) return { ok: false, reason: `${type}: expected an object` };
  if (raw.type !== undefined && raw.type !== type) {
    const got = typeof raw.type === 'string' ? JSON.stringify(raw.type.slice(0, 64)) : `a ${typeof raw.type}`;
    return { ok: false, reason: `type: expected '${type}', got ${got}` };
  }
  const parsed = WireMessageSchema.safeParse(raw.type === undefined ? { ...raw, type } : raw);
  if (!parsed.success) return { ok: false, reason: formatIssues(parsed.error) };
  // The discriminator was checked above, so this always holds; the guard narrows without a cast.
  if (!hasType(parsed.data, type)) return { ok: false, reason: `type: expected '${type}'` };
  return { ok: true, msg: parsed.data };
}
