/**
 * bench:load only: an `x25519` with the same bytes as @noble/curves' (RFC 7748), backed by OpenSSL
 * (node:crypto), about 10× faster. The bench's client workers map shared/secagg/keys.ts's import of
 * '@noble/curves/ed25519.js' to this module (load-hooks.mjs), so a 2-core machine can simulate 1,000
 * clients; the browser and every other caller keep noble. The worker checks byte equality at start.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createNodePrimitives } from '../server/federation/node-primitives';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const primitives = createNodePrimitives();

export const x25519 = {
  getPublicKey(secretKey: Uint8Array): Uint8Array {
    const sk = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(sk).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(spki.length - 32));
  },
  getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    return primitives.agree(secretKey, publicKey);
  },
};
