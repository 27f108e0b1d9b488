/**
 * One client's state for one SecAgg+ round. Methods must be called in order:
 *   advertise → shareKeys(roster) → receiveShares(routed) → await maskedInput(x) → unmask(request)
 * and each at most once; anything else throws SecAggError('wrong_phase').
 * Secrets (keys, self seed, received shares) never leave this object except
 * as encrypted bundles and, in unmask, at most ONE share per neighbour.
 */
import { bytesEqual } from './encoding';
import {
  agreeMany,
  derivePairMaskSeed,
  derivePairSecrets,
  generateKeyPair,
  randomSeed,
  selfSeedCommitment,
  type KeyPair,
} from './keys';
import { maskInputAsync, type PairSeed } from './mask';
import {
  ClientPhase,
  SecAggError,
  type AdvertiseMsg,
  type EncryptedShare,
  type MaskedInputMsg,
  type OwnedShare,
  type RosterEntry,
  type RosterMsg,
  type RoutedSharesMsg,
  type ShareKeysMsg,
  type UnmaskMsg,
  type UnmaskRequestMsg,
} from './messages';
import { checkRosterParams } from './parameters';
import { decryptShare, encryptShare } from './share-crypto';
import { shareSecret } from './shamir';

export interface SecAggClientOptions {
  id: string;
  round: number;
  sessionId: string;
  /** Shamir threshold t (must match the server's). */
  threshold: number;
  /** Expected masked-vector length (see masked-vector-layout.ts); checked in maskedInput when given. */
  vectorLength?: number;
  /** The graph degree k the server announced; checked against t, and rosters may not exceed it. */
  degree?: number;
  /** The cohort size and rates k and t were derived from; k must meet them (parameters.ts). */
  announced?: { n: number; dropoutRate: number; corruptFraction: number; failureTarget: number };
}

interface Neighbour {
  cPk: Uint8Array;
  sPk: Uint8Array;
  encKey: Uint8Array;
}

interface HeldShares {
  selfSeedShare: Uint8Array;
  maskKeyShare: Uint8Array;
}

export class SecAggClient {
  readonly id: string;
  readonly round: number;
  readonly sessionId: string;
  readonly threshold: number;
  private readonly degree: number | undefined;
  private readonly vectorLength: number | undefined;
  private _phase: ClientPhase = ClientPhase.Init;
  private cKeys: KeyPair | undefined;
  private sKeys: KeyPair | undefined;
  private selfSeed: Uint8Array | undefined;
  private neighbours = new Map<string, Neighbour>();
  /** Shares held for neighbours that completed ShareKeys ("live" neighbours). */
  private held = new Map<string, HeldShares>();
  private masking = false;

  constructor(opts: SecAggClientOptions) {
    if (!Number.isInteger(opts.threshold) || opts.threshold < 2)
      throw new Error(`SecAggClient: threshold must be an integer ≥ 2, got ${opts.threshold}`);
    if (opts.degree !== undefined) {
      // Refuse parameters that void the either-or rule, can never complete, or ignore the announced dropout rate.
      const check = checkRosterParams({
        k: opts.degree,
        t: opts.threshold,
        ...(opts.announced ? { announced: opts.announced } : {}),
      });
      if (!check.ok) throw new SecAggError('bad_params', `refusing the round: ${check.reason}`);
    }
    this.id = opts.id;
    this.round = opts.round;
    this.sessionId = opts.sessionId;
    this.threshold = opts.threshold;
    this.vectorLength = opts.vectorLength;
    this.degree = opts.degree;
  }

  get phase(): ClientPhase {
    return this._phase;
  }

  private expect(phase: ClientPhase, what: string): void {
    if (this._phase !== phase)
      throw new SecAggError('wrong_phase', `${what} called in phase ${this._phase}, expected ${phase}`);
  }

  private checkHeader(m: { round: number; sessionId: string }): void {
    if (m.sessionId !== this.sessionId)
      throw new SecAggError('wrong_session', `message for session ${m.sessionId}, this is ${this.sessionId}`);
    if (m.round !== this.round)
      throw new SecAggError('stale_round', `message for round ${m.round}, this is round ${this.round}`);
  }

  private get ctx() {
    return { round: this.round, sessionId: this.sessionId };
  }

  /** Phase 1: fresh c/s key pairs and self seed for this round. */
  advertise(): AdvertiseMsg {
    this.expect(ClientPhase.Init, 'advertise');
    this.cKeys = generateKeyPair();
    this.sKeys = generateKeyPair();
    this.selfSeed = randomSeed();
    this._phase = ClientPhase.Advertised;
    return {
      type: 'advertise',
      round: this.round,
      sessionId: this.sessionId,
      from: this.id,
      cPk: this.cKeys.publicKey,
      sPk: this.sKeys.publicKey,
      selfSeedCommit: selfSeedCommitment(this.selfSeed, { ...this.ctx, id: this.id }),
    };
  }

  /** Phase 2: Shamir-share the self seed and s secret key among the neighbours, encrypted per neighbour. */
  async shareKeys(roster: RosterMsg | readonly RosterEntry[]): Promise<ShareKeysMsg> {
    this.expect(ClientPhase.Advertised, 'shareKeys');
    let entries: readonly RosterEntry[];
    if (!('neighbours' in roster)) entries = roster;
    else {
      const m = roster;
      this.checkHeader(m);
      if (m.to !== this.id) throw new SecAggError('sender_mismatch', `roster addressed to ${m.to}`);
      entries = m.neighbours;
    }
    const ids = new Set<string>();
    const keys = [this.cKeys!.publicKey, this.sKeys!.publicKey];
    for (const e of entries) {
      if (e.id === this.id) throw new SecAggError('malformed', 'roster contains this client');
      if (ids.has(e.id)) throw new SecAggError('duplicate', `roster lists ${e.id} twice`);
      ids.add(e.id);
      if (
        !(e.cPk instanceof Uint8Array) ||
        e.cPk.length !== 32 ||
        !(e.sPk instanceof Uint8Array) ||
        e.sPk.length !== 32
      )
        throw new SecAggError('bad_key', `bad public key for ${e.id}`);
      // Distinct keys (Bonawitz et al.): a repeated key signals a replay or a misbehaving relay.
      for (const k of keys)
        if (bytesEqual(k, e.cPk) || bytesEqual(k, e.sPk))
          throw new SecAggError('bad_key', `repeated public key for ${e.id}`);
      keys.push(e.cPk, e.sPk);
    }
    if (entries.length < this.threshold)
      throw new SecAggError('too_few', `${entries.length} neighbours < threshold ${this.threshold}`);
    if (this.degree !== undefined && entries.length > this.degree)
      throw new SecAggError(
        'malformed',
        `roster lists ${entries.length} neighbours, more than the announced degree ${this.degree}`,
      );
    this._phase = ClientPhase.SharedKeys;
    try {
      // = pairEncKey(c secret, neighbour's c public key, ctx), with native X25519 where available.
      const shared = await agreeMany(
        this.cKeys!,
        entries.map((e) => e.cPk),
      );
      entries.forEach((e, i) => {
        const { encKey } = derivePairSecrets(shared[i]!, { ...this.ctx, a: this.id, b: e.id });
        this.neighbours.set(e.id, { cPk: e.cPk, sPk: e.sPk, encKey });
      });
      const holders = entries.map((e) => e.id);
      const seedShares = await shareSecret(this.selfSeed!, holders, this.threshold);
      const keyShares = await shareSecret(this.sKeys!.secretKey, holders, this.threshold);
      const shares = holders.map((to) =>
        encryptShare(
          this.neighbours.get(to)!.encKey,
          { from: this.id, to, selfSeedShare: seedShares.get(to)!, maskKeyShare: keyShares.get(to)! },
          this.ctx,
        ),
      );
      return { type: 'shareKeys', round: this.round, sessionId: this.sessionId, from: this.id, shares };
    } catch (e) {
      this._phase = ClientPhase.Failed;
      throw e;
    }
  }

  /** After phase 2: decrypt the bundles routed to this client; their senders are the live neighbours. */
  receiveShares(routed: RoutedSharesMsg | readonly EncryptedShare[]): void {
    this.expect(ClientPhase.SharedKeys, 'receiveShares');
    let list: readonly EncryptedShare[];
    if (!('shares' in routed)) list = routed;
    else {
      const m = routed;
      this.checkHeader(m);
      if (m.to !== this.id) throw new SecAggError('sender_mismatch', `shares addressed to ${m.to}`);
      list = m.shares;
    }
    const got = new Map<string, HeldShares>();
    for (const enc of list) {
      const nb = this.neighbours.get(enc.from);
      if (!nb) throw new SecAggError('not_neighbour', `share from non-neighbour ${enc.from}`);
      if (got.has(enc.from)) throw new SecAggError('duplicate', `two shares from ${enc.from}`);
      let p;
      try {
        p = decryptShare(nb.encKey, enc, { ...this.ctx, me: this.id });
      } catch (e) {
        throw new SecAggError('decrypt_failed', `share from ${enc.from}: ${(e as Error).message}`);
      }
      got.set(enc.from, { selfSeedShare: p.selfSeedShare, maskKeyShare: p.maskKeyShare });
    }
    if (got.size < this.threshold)
      throw new SecAggError('too_few', `${got.size} live neighbours < threshold ${this.threshold}`);
    this.held = got;
    this._phase = ClientPhase.ReceivedShares;
  }

  /** Live neighbours (those whose shares this client holds), sorted. */
  liveNeighbours(): string[] {
    return [...this.held.keys()].sort();
  }

  /**
   * Phase 3: y = x + PRG(self seed) ± PRG(pair seeds with live neighbours) mod 2^32.
   * Async: the PRG runs on WebCrypto (mask.ts maskInputAsync). A second call while one is
   * in flight throws wrong_phase like any out-of-order call.
   */
  async maskedInput(x: Uint32Array): Promise<MaskedInputMsg> {
    this.expect(ClientPhase.ReceivedShares, 'maskedInput');
    if (this.masking) throw new SecAggError('wrong_phase', 'maskedInput called twice');
    if (!(x instanceof Uint32Array)) throw new SecAggError('malformed', 'input must be a Uint32Array');
    if (this.vectorLength !== undefined && x.length !== this.vectorLength)
      throw new SecAggError('bad_length', `input has ${x.length} words, expected ${this.vectorLength}`);
    this.masking = true;
    try {
      const peers = this.liveNeighbours();
      const shared = await agreeMany(
        this.sKeys!,
        peers.map((p) => this.neighbours.get(p)!.sPk),
      );
      // = pairMaskSeed(s secret, peer's s public key, ctx), computed with native X25519 where available.
      const pairSeeds: PairSeed[] = peers.map((peer, i) => ({
        peer,
        seed: derivePairMaskSeed(shared[i]!, { ...this.ctx, a: this.id, b: peer }),
      }));
      const y = await maskInputAsync(x, this.selfSeed!, pairSeeds, this.id);
      this._phase = ClientPhase.Masked;
      return { type: 'maskedInput', round: this.round, sessionId: this.sessionId, from: this.id, y };
    } catch (e) {
      this._phase = ClientPhase.Failed;
      throw e;
    }
  }

  /**
   * Phase 4: self-seed shares for surviving neighbours, mask-key shares for
   * dropped ones. Refuses (throws, revealing nothing) if a client is in both
   * lists, this client is not listed as a survivor, or survivors < t.
   */
  unmask(req: UnmaskRequestMsg): UnmaskMsg {
    this.expect(ClientPhase.Masked, 'unmask');
    this.checkHeader(req);
    const survivors = new Set(req.survivors);
    const dropped = new Set(req.dropped);
    for (const d of dropped)
      if (survivors.has(d)) throw new SecAggError('both_shares', `${d} is listed as both survivor and dropped`);
    if (!survivors.has(this.id)) throw new SecAggError('not_eligible', 'this client is not listed as a survivor');
    if (survivors.size < this.threshold)
      throw new SecAggError('too_few', `${survivors.size} survivors < threshold ${this.threshold}`);
    const selfSeedShares: OwnedShare[] = [];
    const maskKeyShares: OwnedShare[] = [];
    for (const [owner, h] of this.held) {
      if (survivors.has(owner)) selfSeedShares.push({ owner, share: h.selfSeedShare });
      else if (dropped.has(owner)) maskKeyShares.push({ owner, share: h.maskKeyShare });
    }
    this._phase = ClientPhase.Done;
    this.held.clear();
    return {
      type: 'unmask',
      round: this.round,
      sessionId: this.sessionId,
      from: this.id,
      selfSeedShares,
      maskKeyShares,
    };
  }
}
