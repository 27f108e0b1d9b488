import { describe, expect, it } from 'vitest';
import { packBinary, unpackBinary } from './binary-pack';
import {
  CLIENT_MESSAGES,
  SERVER_MESSAGES,
  WIRE_EVENTS,
  WireMessageSchema,
  parseWire,
  typeOfEvent,
  type WireType,
} from './wire';
import { formatIssues } from './issues';
import { ModelAckSchema, PlainAckSchema } from './messages';
import { RoundPhase } from './phases';
import { SECAGG_EVENTS } from './secagg-messages';

const key = (fill: number) => new Uint8Array(32).fill(fill);
const header = { round: 3, sessionId: 'session-abc', from: 'client-a' };
const y = new Uint32Array([1, 2, 0xffff_ffff]);

/** One valid payload per message, as a sender puts it on the wire (the record's type forces one per member). */
const EXAMPLES: Record<WireType, Record<string, unknown>> = {
  ready: { backend: 'wasm', hasData: true },
  getModel: { version: 2 },
  submitUpdate: { roundId: 3, modelVersion: 2, numExamples: 10, meanLoss: 0.5, steps: 4, delta: new Uint8Array(8) },
  advertise: { type: 'advertise', ...header, cPk: key(1), sPk: key(2), selfSeedCommit: key(3) },
  shareKeys: {
    type: 'shareKeys',
    ...header,
    shares: [{ from: 'client-a', to: 'client-b', nonce: new Uint8Array(12), ciphertext: new Uint8Array(40) }],
  },
  maskedInput: { type: 'maskedInput', ...header, y },
  unmask: {
    type: 'unmask',
    ...header,
    selfSeedShares: [{ owner: 'client-b', share: new Uint8Array(33) }],
    maskKeyShares: [],
  },
  roundStart: {
    roundId: 3,
    modelVersion: 2,
    modelHash: 'abc',
    layoutHash: 'def',
    training: { localSteps: 5 },
    deadline: 1_700_000_000_000,
  },
  roundEnd: { roundId: 3, outcome: 'committed', newVersion: 3 },
  status: { phase: RoundPhase.MaskedInput, roundId: 3, modelVersion: 2, connectedClients: 7 },
  serverError: { code: 'disconnected', message: 'session revoked' },
  roster: {
    type: 'roster',
    round: 3,
    sessionId: 'session-abc',
    to: 'client-a',
    neighbours: [{ id: 'client-b', cPk: key(4), sPk: key(5) }],
  },
  routedShares: {
    type: 'routedShares',
    round: 3,
    sessionId: 'session-abc',
    to: 'client-b',
    shares: [{ from: 'client-a', to: 'client-b', nonce: new Uint8Array(12), ciphertext: new Uint8Array(40) }],
  },
  unmaskRequest: {
    type: 'unmaskRequest',
    round: 3,
    sessionId: 'session-abc',
    survivors: ['client-a', 'client-b'],
    dropped: ['client-c'],
  },
};

/** A field each message cannot do without. */
const REQUIRED: Record<WireType, string> = {
  ready: 'backend',
  getModel: '', // every field of model:get is optional: see the dedicated test below
  submitUpdate: 'delta',
  advertise: 'selfSeedCommit',
  shareKeys: 'shares',
  maskedInput: 'y',
  unmask: 'maskKeyShares',
  roundStart: 'modelHash',
  roundEnd: 'outcome',
  status: 'phase',
  serverError: 'message',
  roster: 'neighbours',
  routedShares: 'to',
  unmaskRequest: 'survivors',
};

const TYPES = WireMessageSchema.options.map((o) => o.shape.type.value);
const withType = (type: WireType) => (EXAMPLES[type].type === undefined ? { ...EXAMPLES[type], type } : EXAMPLES[type]);

describe('the wire union', () => {
  it('has one example per member, and every message type its own event', () => {
    expect(new Set(TYPES).size).toBe(TYPES.length);
    expect([...TYPES].sort()).toEqual(Object.keys(EXAMPLES).sort());
    const events = TYPES.map((t) => WIRE_EVENTS[t]);
    expect(new Set(events).size).toBe(TYPES.length);
    for (const t of TYPES) expect(typeOfEvent(WIRE_EVENTS[t])).toBe(t);
    expect(typeOfEvent('secagg:nonsense')).toBeUndefined();
  });

  it('splits by direction: clients send the ack-bearing requests and one SecAgg+ message per phase', () => {
    const up = CLIENT_MESSAGES.map((o) => o.shape.type.value);
    const down = SERVER_MESSAGES.map((o) => o.shape.type.value);
    expect([...up, ...down].sort()).toEqual([...TYPES].sort());
    expect(up.filter((t) => t in SECAGG_EVENTS)).toEqual(['advertise', 'shareKeys', 'maskedInput', 'unmask']);
    expect(down.filter((t) => t in SECAGG_EVENTS)).toEqual(['roster', 'routedShares', 'unmaskRequest']);
  });

  it.each(TYPES)('%s parses its own example, tagged by type, with binary fields as typed arrays', (type) => {
    const r = parseWire(type, EXAMPLES[type]);
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.type).toBe(type);
    // The same message through the union alone lands on the same member.
    const direct = WireMessageSchema.safeParse(withType(type));
    expect(direct.success && direct.data.type).toBe(type);
    for (const [field, value] of Object.entries(EXAMPLES[type])) {
      const out: unknown = Object.entries(r.msg).find(([k]) => k === field)?.[1];
      if (value instanceof Uint8Array) expect(out).toBeInstanceOf(Uint8Array);
      if (value instanceof Uint32Array) expect(out).toEqual(value);
    }
  });

  it.each(TYPES)('%s survives packBinary → unpackBinary → parse, as the SecAgg+ transport sends it', (type) => {
    const r = parseWire(type, unpackBinary(packBinary(EXAMPLES[type])));
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.type).toBe(type);
    if (r.msg.type === 'maskedInput') expect([...r.msg.y]).toEqual([...y]);
    if (r.msg.type === 'advertise') expect([...r.msg.cPk]).toEqual([...key(1)]);
  });

  it.each(TYPES)('%s is refused when its payload names another message type', (type) => {
    const other = TYPES.find((t) => t !== type)!;
    const r = parseWire(type, { ...EXAMPLES[type], type: other });
    expect(r).toEqual({ ok: false, reason: `type: expected '${type}', got "${other}"` });
    // The union itself refuses an unknown type with a formatted issue on the discriminator.
    const u = WireMessageSchema.safeParse({ ...EXAMPLES[type], type: 'no-such-message' });
    expect(u.success).toBe(false);
    expect(formatIssues(u.error!)).toMatch(/^type: /);
  });

  it.each(TYPES.filter((t) => REQUIRED[t] !== ''))('%s is refused without its required field', (type) => {
    const field = REQUIRED[type];
    const payload = Object.fromEntries(Object.entries(EXAMPLES[type]).filter(([k]) => k !== field));
    const r = parseWire(type, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(new RegExp(`^${field}: `));
  });

  it('refuses values that are not objects, and a wrong field type names the field', () => {
    expect(parseWire('ready', 'hello')).toEqual({ ok: false, reason: 'ready: expected an object' });
    expect(parseWire('ready', { type: 7n })).toEqual({ ok: false, reason: "type: expected 'ready', got a bigint" });
    expect(parseWire('advertise', [EXAMPLES.advertise])).toMatchObject({ ok: false });
    const r = parseWire('getModel', { version: -1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^version: /);
    const code = parseWire('serverError', { code: 'duplicate_update', message: 'x' });
    expect(code.ok).toBe(false);
    if (!code.ok) expect(code.reason).toMatch(/^code: /);
    const bytes = parseWire('advertise', { ...EXAMPLES.advertise, cPk: Array.from(key(1)) });
    expect(bytes.ok).toBe(false);
    if (!bytes.ok) expect(bytes.reason).toMatch(/^cPk: expected a binary attachment/);
    const odd = parseWire('maskedInput', { ...EXAMPLES.maskedInput, y: new Uint8Array(5) });
    expect(odd.ok).toBe(false);
    if (!odd.ok) expect(odd.reason).toMatch(/^y: uint32 payload has 5 bytes/);
  });
});

describe('acks', () => {
  it('parse an accepted ack with its fields, and a rejection only with a code of the one vocabulary', () => {
    const model = ModelAckSchema.safeParse({ ok: true, version: 1, hash: 'h', layoutHash: 'l', weights: key(0) });
    expect(model.success && model.data.ok && model.data.weights).toBeInstanceOf(Uint8Array);
    expect(PlainAckSchema.safeParse({ ok: false, code: 'duplicate', reason: 'again' }).success).toBe(true);
    const bad = PlainAckSchema.safeParse({ ok: false, code: 'duplicate_update', reason: 'again' });
    expect(bad.success).toBe(false);
    expect(formatIssues(bad.error!)).toMatch(/^code: /);
  });
});
