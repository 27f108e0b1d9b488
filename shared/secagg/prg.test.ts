import { describe, expect, it } from 'vitest';
import { aesCtrKeystream, chachaWords, expandMask, expandMaskAsync, hasWebCryptoPrg, MASK_COUNTER0 } from './prg';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** A deterministic seed (randomness we assert on is seeded). */
const seedOf = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 131 + j * 17) & 0xff);

describe('mask PRG (AES-256-CTR)', () => {
  // NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt: key, initial counter block, plaintext, ciphertext.
  // Keystream = ciphertext ⊕ plaintext; blocks 2–4 cross the low-byte carry (…feff → …ff00).
  const KEY = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
  const CTR = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
  const PT = hex(
    '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51' +
      '30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
  );
  const CT = hex(
    '601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5' +
      '2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6',
  );

  it('the reference matches the NIST SP 800-38A F.5.5 AES-256-CTR vector', () => {
    const ks = aesCtrKeystream(KEY, CTR, new Uint8Array(64));
    expect(toHex(ks.map((b, i) => b ^ PT[i]!))).toBe(toHex(CT));
  });

  it('WebCrypto AES-CTR (length 128) matches the same vector', async () => {
    expect(hasWebCryptoPrg()).toBe(true);
    const key = await crypto.subtle.importKey('raw', KEY, 'AES-CTR', false, ['encrypt']);
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: CTR, length: 128 }, key, PT));
    expect(toHex(ct)).toBe(toHex(CT));
  });

  it('expandMask is the keystream from a zero counter block, read as little-endian words', () => {
    const s = seedOf(1);
    const ks = aesCtrKeystream(s, MASK_COUNTER0, new Uint8Array(16));
    const w = expandMask(s, 4);
    const le = (i: number) => (ks[i]! | (ks[i + 1]! << 8) | (ks[i + 2]! << 16) | (ks[i + 3]! << 24)) >>> 0;
    expect([...w]).toEqual([le(0), le(4), le(8), le(12)]);
  });

  it('the counter carries across 64 bits (a counter block near 2^64 − 1 continues into the upper half)', () => {
    const c0 = hex('0000000000000000fffffffffffffffe');
    const ks = aesCtrKeystream(KEY, c0, new Uint8Array(48));
    // Block 3 must be E(0…01 00…00), i.e. a full 128-bit increment, not a 64-bit wrap to E(0…0).
    const third = aesCtrKeystream(KEY, hex('00000000000000010000000000000000'), new Uint8Array(16));
    const wrapped = aesCtrKeystream(KEY, new Uint8Array(16), new Uint8Array(16));
    expect(toHex(ks.subarray(32))).toBe(toHex(third));
    expect(toHex(ks.subarray(32))).not.toBe(toHex(wrapped));
  });

  it('expandMaskAsync (WebCrypto) gives the same words as the reference, for odd lengths too', async () => {
    for (const [i, len] of [
      [2, 1],
      [3, 5],
      [4, 1027],
      [5, 65_537],
    ] as const) {
      const s = seedOf(i);
      const a = await expandMaskAsync(s, len);
      const b = expandMask(s, len);
      // First differing index (-1: equal); a failing toEqual on 65k words takes minutes to diff.
      expect(a.length).toBe(len);
      expect(a.findIndex((w, j) => w !== b[j])).toBe(-1);
    }
  });

  it('is deterministic and depends on every seed bit; shorter expansions are prefixes', () => {
    const s = seedOf(9);
    const a = expandMask(s, 1000);
    expect(expandMask(s, 1000)).toEqual(a);
    const s2 = s.slice();
    s2[31] = 1 ^ s2[31]!;
    expect(expandMask(s2, 1000)).not.toEqual(a);
    expect(expandMask(s, 10)).toEqual(a.subarray(0, 10));
  });

  it('reuses an output buffer and rejects bad seeds and lengths', async () => {
    const out = new Uint32Array(64).fill(123);
    const s = seedOf(1);
    expect(expandMask(s, 64, out)).toBe(out);
    expect(out).toEqual(expandMask(s, 64));
    expect(() => expandMask(new Uint8Array(16), 4)).toThrow(/32 bytes/);
    expect(() => expandMask(s, 4, new Uint32Array(5))).toThrow(/expected 4/);
    await expect(expandMaskAsync(new Uint8Array(31), 4)).rejects.toThrow(/32 bytes/);
    await expect(expandMaskAsync(s, -1)).rejects.toThrow(/bad length/);
  });
});

describe('chachaWords (graph and rounding streams)', () => {
  it('matches the RFC 8439 ChaCha20 keystream (test vector A.1 #1: zero key, zero nonce, counter 0)', () => {
    const w = chachaWords(new Uint8Array(32), 4);
    // Keystream bytes 76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28, read little-endian.
    expect([...w].map((x) => x.toString(16))).toEqual(['ade0b876', '903df1a0', 'e56a5d40', '28bd8653']);
  });

  it('depends on the nonce', () => {
    const s = seedOf(3);
    const nonce = new Uint8Array(12);
    nonce[0] = 1;
    expect(chachaWords(s, 100, nonce)).not.toEqual(chachaWords(s, 100));
  });
});
