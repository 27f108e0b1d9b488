/**
 * t-of-k Shamir wrappers over the audited `shamir-secret-sharing` (GF(2^8),
 * shares = secret bytes + 1 x-coordinate byte).
 *
 * The library's combine() silently returns a wrong secret with fewer than t
 * shares, so reconstructSecret counts distinct shares itself and accepts an
 * optional verifier (e.g. public key or hash commitment) for the result.
 */
import { combine, split } from 'shamir-secret-sharing';
import { bytesEqual } from './encoding';

export class ShamirError extends Error {
  constructor(message: string) {
    super(`shamir: ${message}`);
    this.name = 'ShamirError';
  }
}

/** Bytes of one share of a 32-byte secret. */
export const SHARE_BYTES = 33;

/** Splits `secret` among `holders` (2..255 distinct ids) with threshold t (2..holders.length). */
export async function shareSecret(
  secret: Uint8Array,
  holders: readonly string[],
  t: number,
): Promise<Map<string, Uint8Array>> {
  const k = holders.length;
  if (new Set(holders).size !== k) throw new ShamirError('holders must be distinct');
  if (k < 2 || k > 255) throw new ShamirError(`need 2..255 holders, got ${k}`);
  if (!Number.isInteger(t) || t < 2 || t > k)
    throw new ShamirError(`threshold must be an integer in [2, ${k}], got ${t}`);
  if (secret.length < 1) throw new ShamirError('empty secret');
  const shares = await split(secret, k, t);
  const out = new Map<string, Uint8Array>();
  holders.forEach((h, i) => out.set(h, shares[i]!));
  return out;
}

/**
 * Reconstructs from ≥ t distinct shares (deduplicated by x-coordinate);
 * throws ShamirError with fewer, on inconsistent shares, or when `verify`
 * rejects the result.
 */
export async function reconstructSecret(
  shares: readonly Uint8Array[],
  t: number,
  verify?: (secret: Uint8Array) => boolean,
): Promise<Uint8Array> {
  if (!Number.isInteger(t) || t < 2) throw new ShamirError(`threshold must be an integer ≥ 2, got ${t}`);
  const byX = new Map<number, Uint8Array>();
  let len = -1;
  for (const s of shares) {
    if (!(s instanceof Uint8Array) || s.length < 2) throw new ShamirError('malformed share');
    if (len === -1) len = s.length;
    if (s.length !== len) throw new ShamirError('shares have different lengths');
    const x = s[s.length - 1]!;
    const prev = byX.get(x);
    if (prev && !bytesEqual(prev, s)) throw new ShamirError(`two different shares with x=${x}`);
    byX.set(x, s);
  }
  if (byX.size < t) throw new ShamirError(`need at least t=${t} distinct shares, got ${byX.size}`);
  // Exactly t points determine the degree t−1 polynomial.
  const secret = await combine([...byX.values()].slice(0, t));
  if (verify && !verify(secret)) throw new ShamirError('reconstructed secret failed verification');
  return secret;
}
