/**
 * The server's state for one SecAgg+ round (honest-but-curious relay).
 *
 * Phases advance only through the coordinator calls
 *   closeAdvertise() → closeShareKeys() → unmaskRequest() → finish()
 * (typically at each phase deadline). Client messages go through on*()
 * handlers that never throw: they return { ok: true } or a typed Rejection.
 * Coordinator calls throw RoundFailed when the round cannot complete
 * (fewer than t clients left, or a secret cannot be reconstructed), and
 * SecAggError('wrong_phase') when called out of order.
 *
 * Client sets (Bonawitz et al. notation): U1 advertised, U2 shared keys,
 * U3 sent a masked input ("survivors"); dropped = U2 \ U3. Masked inputs are
 * summed as they arrive, so memory is one vector regardless of n.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { bytesEqual } from './encoding';
import { defaultDegree, defaultThreshold, effectiveDegree, neighbourGraph } from './graph';
import { maskTotalAsync, subtractTotal, type UnmaskPlan } from './unmask-plan';
import { inThreadReconstructor, type ReconstructJob, type Reconstructor } from './reconstruct-jobs';
import {
  Phase,
  RoundFailed,
  SecAggError,
  reject,
  type AdvertiseMsg,
  type EncryptedShare,
  type MaskedInputMsg,
  type MsgHeader,
  type OwnedShare,
  type Rejection,
  type Result,
  type RosterMsg,
  type RoutedSharesMsg,
  type ShareKeysMsg,
  type UnmaskMsg,
  type UnmaskRequestMsg,
} from './messages';
import { SHARE_BYTES } from './shamir';

export interface SecAggServerOptions {
  round: number;
  sessionId: string;
  /** The selected cohort (distinct ids). */
  clients: readonly string[];
  /** Requested neighbour degree (even); default defaultDegree(n). Capped at n − 1. */
  k?: number;
  /** Shamir threshold; default floor(k/2) + 1. Must satisfy k/2 < t ≤ k. */
  threshold?: number;
  /** Words per masked input (d + 1 with the weight coordinate). */
  vectorLength: number;
  /** Seed for a reproducible neighbour graph (tests); CSPRNG otherwise. */
  graphSeed?: Uint8Array;
}

export interface RoundResult {
  /** Σ x_u over survivors, mod 2^32 (decode with quantize.decodeSum(sum, survivors.length, cfg)). */
  sum: Uint32Array;
  survivors: string[];
  dropped: string[];
}

/** Removes the plan's masks from Σ y; returns Σ x (a new array). */
export type Unmasker = (sumOfY: Uint32Array, plan: UnmaskPlan) => Promise<Uint32Array>;

/** In this thread, with the PRG on WebCrypto (off-thread), so the event loop runs between expansions. */
export const inThreadUnmasker: Unmasker = async (sumOfY, plan) =>
  subtractTotal(sumOfY, await maskTotalAsync(plan, sumOfY.length));

interface Advertised {
  cPk: Uint8Array;
  sPk: Uint8Array;
  commit: Uint8Array;
}

const MAX_CIPHERTEXT = 4096;

export class SecAggServer {
  readonly round: number;
  readonly sessionId: string;
  readonly clients: readonly string[];
  readonly degree: number;
  readonly threshold: number;
  readonly vectorLength: number;
  readonly graph: ReadonlyMap<string, readonly string[]>;
  private readonly cohort: ReadonlySet<string>;
  /** Every advertised public key (hex), to refuse reuse across clients. */
  private usedKeys = new Set<string>();
  private _phase: Phase = Phase.AdvertiseKeys;
  private adv = new Map<string, Advertised>();
  private u1 = new Set<string>();
  /** Clients whose share bundles were accepted in ShareKeys (U2 once it closes). */
  private shared = new Set<string>();
  private u2 = new Set<string>();
  private inbox = new Map<string, EncryptedShare[]>();
  private acc: Uint32Array;
  private u3 = new Set<string>();
  private request: UnmaskRequestMsg | undefined;
  private droppedSet = new Set<string>();
  private responded = new Set<string>();
  private selfShares = new Map<string, Uint8Array[]>();
  private keyShares = new Map<string, Uint8Array[]>();
  /** finish() is removing the masks: the shares it reads must not change any more. */
  private finishing = false;

  constructor(opts: SecAggServerOptions) {
    const n = opts.clients.length;
    if (new Set(opts.clients).size !== n) throw new Error('SecAggServer: client ids must be distinct');
    if (n < 3) throw new Error(`SecAggServer: need at least 3 clients, got ${n}`);
    if (!Number.isSafeInteger(opts.vectorLength) || opts.vectorLength < 1)
      throw new Error(`SecAggServer: bad vectorLength ${opts.vectorLength}`);
    const k = effectiveDegree(n, opts.k ?? defaultDegree(n));
    if (k < 2 || k > 255) throw new Error(`SecAggServer: degree must be in [2, 255], got ${k}`);
    const t = opts.threshold ?? defaultThreshold(k);
    if (!Number.isInteger(t) || t <= k / 2 || t > k || t < 2)
      throw new Error(`SecAggServer: threshold t=${t} must satisfy k/2 < t ≤ k (k=${k}) and t ≥ 2`);
    this.round = opts.round;
    this.sessionId = opts.sessionId;
    this.clients = [...opts.clients];
    this.cohort = new Set(this.clients);
    this.degree = k;
    this.threshold = t;
    this.vectorLength = opts.vectorLength;
    this.graph = neighbourGraph(this.clients, k, opts.graphSeed);
    this.acc = new Uint32Array(opts.vectorLength);
  }

  get phase(): Phase {
    return this._phase;
  }

  /** In the Unmask phase: whether finish() has begun removing the masks (no more unmask messages). */
  get unmasking(): boolean {
    return this.finishing;
  }

  /** U1, U2, U3 and the dropped set as sorted arrays (for logging and the coordinator). */
  get advertised(): string[] {
    return [...this.adv.keys()].sort();
  }
  get sharedKeys(): string[] {
    return [...this.u2].sort();
  }
  get survivors(): string[] {
    return [...this.u3].sort();
  }
  get dropped(): string[] {
    return [...this.droppedSet].sort();
  }

  // ---- message handlers (never throw) -------------------------------------

  onAdvertise(id: string, msg: AdvertiseMsg): Result {
    return this.guard(() => {
      const bad = this.common(id, msg, Phase.AdvertiseKeys, 'advertise', this.cohort.has(id), this.adv.has(id));
      if (bad) return bad;
      for (const [name, v] of [
        ['cPk', msg.cPk],
        ['sPk', msg.sPk],
        ['selfSeedCommit', msg.selfSeedCommit],
      ] as const)
        if (!(v instanceof Uint8Array) || v.length !== 32) return reject('bad_key', `${name} must be 32 bytes`);
      if (bytesEqual(msg.cPk, msg.sPk)) return reject('bad_key', 'cPk and sPk must differ');
      const cHex = bytesToHex(msg.cPk);
      const sHex = bytesToHex(msg.sPk);
      if (this.usedKeys.has(cHex) || this.usedKeys.has(sHex))
        return reject('bad_key', 'public key already used by another client');
      this.usedKeys.add(cHex).add(sHex);
      this.adv.set(id, { cPk: msg.cPk, sPk: msg.sPk, commit: msg.selfSeedCommit });
      return { ok: true };
    });
  }

  onShareKeys(id: string, msg: ShareKeysMsg): Result {
    return this.guard(() => {
      const bad = this.common(id, msg, Phase.ShareKeys, 'shareKeys', this.u1.has(id), this.shared.has(id));
      if (bad) return bad;
      if (!Array.isArray(msg.shares)) return reject('malformed', 'shares must be an array');
      const roster = new Set(this.rosterIds(id));
      const seen = new Set<string>();
      for (const s of msg.shares) {
        if (s.from !== id) return reject('sender_mismatch', `share claims sender ${s.from}`);
        if (!roster.has(s.to)) return reject('not_neighbour', `share addressed to ${s.to}, not a neighbour of ${id}`);
        if (seen.has(s.to)) return reject('duplicate', `two shares addressed to ${s.to}`);
        seen.add(s.to);
        if (!(s.nonce instanceof Uint8Array) || s.nonce.length !== 12)
          return reject('malformed', 'nonce must be 12 bytes');
        if (!(s.ciphertext instanceof Uint8Array) || s.ciphertext.length < 16 || s.ciphertext.length > MAX_CIPHERTEXT)
          return reject('malformed', 'bad ciphertext length');
      }
      for (const r of roster) if (!seen.has(r)) return reject('missing_share', `no share for neighbour ${r}`);
      // Routed as they arrive, so closing the phase is O(1), not O(n·k) in one turn. A share addressed to a
      // client that never shares keys stays unread: only U2 members are sent their inbox.
      for (const sh of msg.shares) push(this.inbox, sh.to, sh);
      this.shared.add(id);
      return { ok: true };
    });
  }

  onMaskedInput(id: string, msg: MaskedInputMsg): Result {
    return this.guard(() => {
      const bad = this.common(id, msg, Phase.MaskedInput, 'maskedInput', this.u2.has(id), this.u3.has(id));
      if (bad) return bad;
      if (!(msg.y instanceof Uint32Array)) return reject('malformed', 'y must be a Uint32Array');
      if (msg.y.length !== this.vectorLength)
        return reject('bad_length', `y has ${msg.y.length} words, expected ${this.vectorLength}`);
      const acc = this.acc;
      const y = msg.y;
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + y[i]!;
      this.u3.add(id);
      return { ok: true };
    });
  }

  onUnmask(id: string, msg: UnmaskMsg): Result {
    return this.guard(() => {
      const bad = this.common(id, msg, Phase.Unmask, 'unmask', this.u3.has(id), this.responded.has(id));
      if (bad) return bad;
      if (!Array.isArray(msg.selfSeedShares) || !Array.isArray(msg.maskKeyShares))
        return reject('malformed', 'share lists must be arrays');
      const nbs = new Set(this.graph.get(id) ?? []);
      const selfOwners = new Set<string>();
      const keyOwners = new Set<string>();
      const check = (s: OwnedShare, owners: Set<string>, allowed: Set<string>, kind: string): Rejection | undefined => {
        if (!(s.share instanceof Uint8Array) || s.share.length !== SHARE_BYTES)
          return reject('malformed', `${kind} share must be ${SHARE_BYTES} bytes`);
        if (!nbs.has(s.owner)) return reject('not_neighbour', `${s.owner} is not a neighbour of ${id}`);
        if (!allowed.has(s.owner))
          return reject(
            'not_eligible',
            `${kind} share for ${s.owner}, who is not ${kind === 'self-seed' ? 'a survivor' : 'dropped'}`,
          );
        if (owners.has(s.owner)) return reject('duplicate', `two ${kind} shares for ${s.owner}`);
        owners.add(s.owner);
        return undefined;
      };
      for (const s of msg.selfSeedShares) {
        const r = check(s, selfOwners, this.u3, 'self-seed');
        if (r) return r;
      }
      for (const s of msg.maskKeyShares) {
        if (selfOwners.has(s.owner)) return reject('both_shares', `both shares offered for ${s.owner}`);
        const r = check(s, keyOwners, this.droppedSet, 'mask-key');
        if (r) return r;
      }
      for (const s of msg.selfSeedShares) push(this.selfShares, s.owner, s.share);
      for (const s of msg.maskKeyShares) push(this.keyShares, s.owner, s.share);
      this.responded.add(id);
      return { ok: true };
    });
  }

  // ---- coordinator calls -------------------------------------------------

  /** Ends the round from outside (server stopping, a relay error): every later message and call is refused. */
  abort(): void {
    if (this._phase !== Phase.Done) this._phase = Phase.Failed;
  }

  /** Ends AdvertiseKeys: U1 = clients that advertised. */
  closeAdvertise(): void {
    this.expectPhase(Phase.AdvertiseKeys, 'closeAdvertise');
    this.u1 = new Set(this.adv.keys());
    this.requireAtLeastT(this.u1.size, 'advertised keys');
    this._phase = Phase.ShareKeys;
  }

  /** The neighbours (in U1) of `id` with their public keys. */
  rosterFor(id: string): Result<RosterMsg> {
    if (this._phase !== Phase.ShareKeys) return reject('wrong_phase', `roster requested in phase ${this._phase}`);
    if (!this.u1.has(id)) return reject('not_eligible', `${id} did not advertise keys`);
    const neighbours = this.rosterIds(id).map((nid) => {
      const a = this.adv.get(nid)!;
      return { id: nid, cPk: a.cPk, sPk: a.sPk };
    });
    return { ok: true, value: { type: 'roster', round: this.round, sessionId: this.sessionId, to: id, neighbours } };
  }

  /** Ends ShareKeys: U2 = clients whose share bundles were accepted; each U2 member may fetch its inbox. */
  closeShareKeys(): void {
    this.expectPhase(Phase.ShareKeys, 'closeShareKeys');
    this.u2 = this.shared;
    this.requireAtLeastT(this.u2.size, 'shared keys');
    this._phase = Phase.MaskedInput;
  }

  routedSharesFor(id: string): Result<RoutedSharesMsg> {
    if (this._phase !== Phase.MaskedInput)
      return reject('wrong_phase', `routed shares requested in phase ${this._phase}`);
    if (!this.u2.has(id)) return reject('not_eligible', `${id} did not share keys`);
    const shares = this.inbox.get(id) ?? [];
    return { ok: true, value: { type: 'routedShares', round: this.round, sessionId: this.sessionId, to: id, shares } };
  }

  /** Ends MaskedInput (first call) and returns the survivors / dropped announcement (same for everyone). */
  unmaskRequest(): UnmaskRequestMsg {
    if (this._phase === Phase.Unmask && this.request) return this.request;
    this.expectPhase(Phase.MaskedInput, 'unmaskRequest');
    this.droppedSet = new Set([...this.u2].filter((u) => !this.u3.has(u)));
    this.requireAtLeastT(this.u3.size, 'sent masked inputs');
    this.inbox.clear();
    this._phase = Phase.Unmask;
    this.request = {
      type: 'unmaskRequest',
      round: this.round,
      sessionId: this.sessionId,
      survivors: this.survivors,
      dropped: this.dropped,
    };
    return this.request;
  }

  /**
   * Reconstructs the survivors' self seeds and the dropped clients' mask keys, removes all masks, and returns Σ x.
   * `unmasker` removes the masks described by the plan (default: in this thread); the server passes a worker pool.
   */
  async finish(
    unmasker: Unmasker = inThreadUnmasker,
    reconstructor: Reconstructor = inThreadReconstructor,
  ): Promise<RoundResult> {
    this.expectPhase(Phase.Unmask, 'finish');
    if (this.finishing) throw new SecAggError('wrong_phase', 'finish called twice');
    this.finishing = true;
    const ctx = { round: this.round, sessionId: this.sessionId };
    try {
      const jobs: ReconstructJob[] = [];
      const job = (
        owner: string,
        what: ReconstructJob['what'],
        shares: Uint8Array[] | undefined,
        expect: Uint8Array,
      ) => {
        const got = shares ?? [];
        if (got.length < this.threshold)
          throw new RoundFailed(
            'reconstruction_failed',
            `${what} of ${owner}: ${got.length} shares < threshold ${this.threshold}`,
          );
        jobs.push({ ...ctx, owner, what, shares: got, threshold: this.threshold, expect });
      };
      const survivors = [...this.u3];
      const dropped = [...this.droppedSet];
      for (const u of survivors) job(u, 'self seed', this.selfShares.get(u), this.adv.get(u)!.commit);
      for (const u of dropped) job(u, 'mask key', this.keyShares.get(u), this.adv.get(u)!.sPk);
      const results = await reconstructor(jobs);
      const secrets = results.map((r) => {
        if ('error' in r) throw new RoundFailed('reconstruction_failed', r.error);
        return r.secret;
      });
      const plan: UnmaskPlan = {
        ...ctx,
        selfSeeds: secrets.slice(0, survivors.length),
        // Survivors that masked with u: its graph neighbours in U3 (all in U2, so they hold u's share).
        dropped: dropped.map((u, i) => ({
          id: u,
          maskKey: secrets[survivors.length + i]!,
          survivors: (this.graph.get(u) ?? [])
            .filter((v) => this.u3.has(v))
            .map((v) => ({ id: v, sPk: this.adv.get(v)!.sPk })),
        })),
      };
      const sum = await unmasker(this.acc, plan);
      if (this._phase !== Phase.Unmask) throw new RoundFailed('reconstruction_failed', 'round aborted while unmasking');
      this._phase = Phase.Done;
      return { sum, survivors: this.survivors, dropped: this.dropped };
    } catch (e) {
      this._phase = Phase.Failed;
      if (e instanceof RoundFailed) throw e;
      throw new RoundFailed('reconstruction_failed', (e as Error).message);
    }
  }

  // ---- helpers -----------------------------------------------------------

  private rosterIds(id: string): string[] {
    return (this.graph.get(id) ?? []).filter((n) => this.u1.has(n));
  }

  private requireAtLeastT(count: number, what: string): void {
    if (count < this.threshold) {
      this._phase = Phase.Failed;
      throw new RoundFailed('too_few_survivors', `only ${count} clients ${what}, threshold is ${this.threshold}`);
    }
  }

  private expectPhase(p: Phase, what: string): void {
    if (this._phase !== p)
      throw new SecAggError('wrong_phase', `${what} called in phase ${this._phase}, expected ${p}`);
  }

  /** Checks shared by all handlers: phase, session/round (replays), eligibility, sender, duplicates. */
  private common(
    id: string,
    msg: MsgHeader & { type: string; from: string },
    phase: Phase,
    type: string,
    eligible: boolean,
    seen: boolean,
  ): Rejection | undefined {
    if (!msg || typeof msg !== 'object') return reject('malformed', 'message must be an object');
    if (msg.type !== type) return reject('malformed', `expected a ${type} message, got ${String(msg.type)}`);
    // Round first: a replay from an earlier round also has an old session id, and "stale round" says why.
    if (msg.round !== this.round)
      return reject(
        'stale_round',
        `message for round ${msg.round}, this is round ${this.round}${msg.round < this.round ? ' (replay of an earlier round)' : ''}`,
      );
    if (msg.sessionId !== this.sessionId)
      return reject('wrong_session', `message for session ${msg.sessionId}, this is ${this.sessionId}`);
    if (this._phase !== phase) return reject('wrong_phase', `${type} received in phase ${this._phase}`);
    if (this.finishing) return reject('wrong_phase', `${type} received after unmasking began`);
    if (!this.cohort.has(id)) return reject('unknown_client', `${id} is not in this round's cohort`);
    if (msg.from !== id) return reject('sender_mismatch', `message from ${id} claims to be from ${msg.from}`);
    if (!eligible) return reject('not_eligible', `${id} is not eligible for ${type} (dropped in an earlier phase)`);
    if (seen) return reject('duplicate', `${id} already sent ${type}`);
    return undefined;
  }

  private guard(f: () => Result): Result {
    try {
      return f();
    } catch (e) {
      return reject('malformed', `invalid message: ${(e as Error).message}`);
    }
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
