import { describe, expect, it } from 'vitest';
import { SecAggClient } from './client';
import { Phase, SecAggError, type Rejection, type Result, type UnmaskRequestMsg } from './messages';
import { SecAggServer } from './server';

const SESSION = 'sess-R';
const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
const L = 64;

function rejected(r: Result | Result<unknown>, code: Rejection['code']): string {
  expect(r.ok).toBe(false);
  expect((r as Rejection).code).toBe(code);
  return (r as Rejection).reason;
}

function expectOk(r: Result | Result<unknown>): void {
  if (!r.ok) throw new Error(`unexpected rejection ${r.code}: ${r.reason}`);
}

/** A round with k = 4 (so non-neighbours exist), driven up to `until`. */
async function setup(round = 1, until: Phase = Phase.Unmask) {
  const server = new SecAggServer({
    round,
    sessionId: SESSION,
    clients: ids,
    k: 4,
    vectorLength: L,
    graphSeed: new Uint8Array([9]),
  });
  const clients = new Map(
    ids.map((id) => [
      id,
      new SecAggClient({ id, round, sessionId: SESSION, threshold: server.threshold, vectorLength: L }),
    ]),
  );
  const adv = new Map(ids.map((id) => [id, clients.get(id)!.advertise()]));
  for (const id of ids) expectOk(server.onAdvertise(id, adv.get(id)!));
  if (until === Phase.AdvertiseKeys) return { server, clients, adv };
  server.closeAdvertise();
  const shareMsgs = new Map<string, Awaited<ReturnType<SecAggClient['shareKeys']>>>();
  for (const id of ids) {
    const r = server.rosterFor(id);
    expectOk(r);
    if (r.ok) shareMsgs.set(id, await clients.get(id)!.shareKeys(r.value));
  }
  if (until === Phase.ShareKeys) return { server, clients, adv, shareMsgs };
  for (const id of ids) expectOk(server.onShareKeys(id, shareMsgs.get(id)!));
  server.closeShareKeys();
  const masked = new Map<string, Awaited<ReturnType<SecAggClient['maskedInput']>>>();
  for (const id of ids) {
    const r = server.routedSharesFor(id);
    if (r.ok) clients.get(id)!.receiveShares(r.value);
    masked.set(id, await clients.get(id)!.maskedInput(new Uint32Array(L).fill(1)));
  }
  if (until === Phase.MaskedInput) return { server, clients, adv, shareMsgs, masked };
  for (const id of ids.slice(0, 9)) expectOk(server.onMaskedInput(id, masked.get(id)!));
  const req = server.unmaskRequest();
  return { server, clients, adv, shareMsgs, masked, req };
}

describe('SecAggServer rejections', () => {
  it('rejects a masked vector of the wrong length', async () => {
    const { server, masked } = await setup(1, Phase.MaskedInput);
    const m = masked!.get('c0')!;
    expect(rejected(server.onMaskedInput('c0', { ...m, y: new Uint32Array(L - 1) }), 'bad_length')).toMatch(
      /63 words, expected 64/,
    );
    rejected(server.onMaskedInput('c0', { ...m, y: new Float32Array(L) as unknown as Uint32Array }), 'malformed');
    expectOk(server.onMaskedInput('c0', m)); // the honest one is still accepted afterwards
  });

  it('rejects a share addressed to a non-neighbour', async () => {
    const { server, shareMsgs } = await setup(1, Phase.ShareKeys);
    const nbs = server.graph.get('c0')!;
    const stranger = ids.find((id) => id !== 'c0' && !nbs.includes(id))!;
    const msg = shareMsgs!.get('c0')!;
    const bad = { ...msg, shares: msg.shares.map((s, i) => (i === 0 ? { ...s, to: stranger } : s)) };
    expect(rejected(server.onShareKeys('c0', bad), 'not_neighbour')).toContain(stranger);
    rejected(server.onShareKeys('c0', { ...msg, shares: msg.shares.slice(1) }), 'missing_share');
    rejected(server.onShareKeys('c0', { ...msg, shares: [...msg.shares, msg.shares[0]!] }), 'duplicate');
    expectOk(server.onShareKeys('c0', msg));
  });

  it('rejects replayed messages from an earlier round (and other sessions)', async () => {
    const r1 = await setup(1, Phase.MaskedInput);
    const r2 = await setup(2, Phase.MaskedInput);
    // Round-1 masked input replayed into round 2.
    expect(rejected(r2.server.onMaskedInput('c0', r1.masked!.get('c0')!), 'stale_round')).toMatch(/earlier round/);
    // Round-1 advertise replayed into a fresh round-2 server.
    const fresh = new SecAggServer({ round: 2, sessionId: SESSION, clients: ids, k: 4, vectorLength: L });
    rejected(fresh.onAdvertise('c0', r1.adv.get('c0')!), 'stale_round');
    rejected(fresh.onAdvertise('c0', { ...r1.adv.get('c0')!, round: 2, sessionId: 'other' }), 'wrong_session');
  });

  it('rejects a duplicate masked input', async () => {
    const { server, masked } = await setup(1, Phase.MaskedInput);
    expectOk(server.onMaskedInput('c3', masked!.get('c3')!));
    rejected(server.onMaskedInput('c3', masked!.get('c3')!), 'duplicate');
  });

  it('rejects an unmask response that gives both shares for one client', async () => {
    const { server, clients, req } = await setup();
    const responder = 'c1';
    const msg = clients.get(responder)!.unmask(req!);
    expect(msg.selfSeedShares.length).toBeGreaterThan(0);
    const s = msg.selfSeedShares[0]!;
    const bad = { ...msg, maskKeyShares: [...msg.maskKeyShares, { owner: s.owner, share: s.share }] };
    expect(rejected(server.onUnmask(responder, bad), 'both_shares')).toContain(s.owner);
    // A mask-key share for a survivor is refused too.
    rejected(server.onUnmask(responder, { ...msg, selfSeedShares: [], maskKeyShares: [s] }), 'not_eligible');
    expectOk(server.onUnmask(responder, msg));
    rejected(server.onUnmask(responder, msg), 'duplicate');
  });

  it('rejects out-of-phase, unknown, spoofed and garbage messages without throwing', async () => {
    const { server, adv, masked } = await setup(1, Phase.MaskedInput);
    expect(rejected(server.onAdvertise('c0', adv.get('c0')!), 'wrong_phase')).toMatch(/masked-input/);
    rejected(server.onMaskedInput('intruder', { ...masked!.get('c0')!, from: 'intruder' }), 'unknown_client');
    rejected(server.onMaskedInput('c1', masked!.get('c0')!), 'sender_mismatch');
    // Garbage that the types forbid, sent anyway: the handlers must reject it at run time.
    // @ts-expect-error null is not a MaskedInputMsg
    rejected(server.onMaskedInput('c0', null), 'malformed');
    // @ts-expect-error an unmask message without its shares
    rejected(server.onUnmask('c0', { type: 'unmask', round: 1, sessionId: SESSION, from: 'c0' }), 'wrong_phase');
    // @ts-expect-error a masked input without its vector
    const noVector: Parameters<typeof server.onMaskedInput>[1] = {
      type: 'maskedInput',
      round: 1,
      sessionId: SESSION,
      from: 'c0',
    };
    rejected(server.onMaskedInput('c0', noVector), 'malformed');
    expect(() => server.closeAdvertise()).toThrow(SecAggError);
  });

  it('rejects reused public keys at AdvertiseKeys', async () => {
    const { server, adv } = await setup(1, Phase.AdvertiseKeys);
    const other = new SecAggServer({ round: 1, sessionId: SESSION, clients: ids, k: 4, vectorLength: L });
    expectOk(other.onAdvertise('c0', adv.get('c0')!));
    rejected(other.onAdvertise('c1', { ...adv.get('c1')!, sPk: adv.get('c0')!.sPk }), 'bad_key');
    expect(server.phase).toBe(Phase.AdvertiseKeys);
  });

  it('refuses configurations with t ≤ k/2', () => {
    expect(
      () => new SecAggServer({ round: 1, sessionId: SESSION, clients: ids, k: 4, threshold: 2, vectorLength: L }),
    ).toThrow(/k\/2 < t/);
  });
});

describe('SecAggClient refusals', () => {
  it('refuses an unmask request listing a client as both survivor and dropped, revealing nothing', async () => {
    const { clients, req } = await setup();
    const c = clients.get('c2')!;
    const bad: UnmaskRequestMsg = { ...req!, dropped: [...req!.dropped, req!.survivors[0]!] };
    expect(() => c.unmask(bad)).toThrow(/both survivor and dropped/);
    // Still able to answer a consistent request, but only once.
    const ok = c.unmask(req!);
    expect(ok.selfSeedShares.length + ok.maskKeyShares.length).toBeGreaterThan(0);
    expect(() => c.unmask(req!)).toThrow(/wrong_phase/);
  });

  it('gives one share per neighbour: self seed for survivors, mask key for the dropped', async () => {
    const { server, clients, req } = await setup();
    expect(req!.dropped).toEqual(['c9']);
    for (const id of req!.survivors) {
      const m = clients.get(id)!.unmask(req!);
      const owners = [...m.selfSeedShares, ...m.maskKeyShares].map((s) => s.owner);
      expect(new Set(owners).size).toBe(owners.length);
      expect(owners.sort()).toEqual([...server.graph.get(id)!].sort());
      for (const s of m.maskKeyShares) expect(s.owner).toBe('c9');
    }
  });

  it('rejects calls out of order and messages from another round', async () => {
    const c = new SecAggClient({ id: 'a', round: 3, sessionId: SESSION, threshold: 2 });
    await expect(c.maskedInput(new Uint32Array(4))).rejects.toThrow(/wrong_phase/);
    c.advertise();
    await expect(
      c.shareKeys({ type: 'roster', round: 2, sessionId: SESSION, to: 'a', neighbours: [] }),
    ).rejects.toThrow(/stale_round/);
  });
});

describe('SecAggServer lifecycle (the server round takes its phase from here)', () => {
  it('refuses unmask responses once finish() has begun removing masks, and a second finish()', async () => {
    const { server, clients, req } = await setup();
    const responses = new Map(req!.survivors.map((id) => [id, clients.get(id)!.unmask(req!)]));
    for (const [id, m] of responses) expectOk(server.onUnmask(id, m));
    rejected(server.onUnmask('c0', responses.get('c0')!), 'duplicate');
    const finishing = server.finish();
    expect(server.unmasking).toBe(true);
    expect(rejected(server.onUnmask('c0', responses.get('c0')!), 'wrong_phase')).toMatch(/after unmasking began/);
    await expect(server.finish()).rejects.toThrow(SecAggError);
    const out = await finishing;
    expect(server.phase).toBe(Phase.Done);
    expect([...out.sum.slice(0, 4)]).toEqual([9, 9, 9, 9]); // nine survivors, each input all ones
  });

  it('abort() fails the round: later messages and coordinator calls are refused', async () => {
    const { server, clients } = await setup(1, Phase.AdvertiseKeys);
    server.abort();
    expect(server.phase).toBe(Phase.Failed);
    expect(() => server.closeAdvertise()).toThrow(SecAggError);
    const fresh = new SecAggClient({ id: 'c0', round: 1, sessionId: SESSION, threshold: 3, vectorLength: L });
    rejected(server.onAdvertise('c0', fresh.advertise()), 'wrong_phase');
    expect(clients.size).toBe(ids.length);
  });

  it('abort() while unmasking makes finish() fail instead of returning a sum', async () => {
    const { server, clients, req } = await setup();
    for (const id of req!.survivors) expectOk(server.onUnmask(id, clients.get(id)!.unmask(req!)));
    const finishing = server.finish();
    server.abort();
    await expect(finishing).rejects.toThrow(/aborted while unmasking/);
    expect(server.phase).toBe(Phase.Failed);
  });
});
