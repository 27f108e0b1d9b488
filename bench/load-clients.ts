/**
 * bench:load, one worker thread of honest protocol-level clients (the real FederationClient and SecAgg+
 * client code over socket.io; training replaced by a seeded random delta). The main thread tells it when
 * to close; it answers with the client-side errors it saw, counted by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { x25519 as noble } from '@noble/curves/ed25519.js';
import { NodeFederatedClient } from '../server/federation/node-client';
import { DEFAULT_MODEL_CONFIG, TINY_MODEL_CONFIG } from '../shared/model/config';
import { placeholderDataset } from '../shared/data/dataset';
import { createRng } from '../shared/data/rng';
import { SECAGG_EVENTS } from '../shared/protocol/secagg-messages';
import { generateKeyPair, agree } from '../shared/secagg/keys';

export interface ClientWorkerData {
  url: string;
  model: 'tiny' | 'default';
  nodeX25519: boolean;
  clients: { index: number; token: string; drops: boolean }[];
}

const cfg = workerData as ClientWorkerData;

// The OpenSSL X25519 (if mapped in) must give noble's bytes.
const a = generateKeyPair();
const b = generateKeyPair();
const same =
  Buffer.from(a.publicKey).equals(Buffer.from(noble.getPublicKey(a.secretKey))) &&
  Buffer.from(agree(a.secretKey, b.publicKey)).equals(Buffer.from(noble.getSharedSecret(a.secretKey, b.publicKey)));
if (!same) throw new Error('bench client x25519 differs from @noble/curves');

const modelConfig = cfg.model === 'tiny' ? TINY_MODEL_CONFIG : DEFAULT_MODEL_CONFIG;
const dummy = placeholderDataset(100);
const errors = new Map<string, number>();
const clients = cfg.clients.map(({ index, token, drops }) => {
  const rng = createRng(1000 + index);
  return new NodeFederatedClient({
    url: cfg.url,
    token,
    clientId: `load-${String(index).padStart(5, '0')}`,
    modelConfig,
    data: dummy,
    // The server may answer late under the flood; the round's own deadlines decide, not the ack timeout.
    ackTimeoutMs: 600_000,
    trainOverride: async (global) => {
      const delta = new Float32Array(global.length);
      for (let j = 0; j < delta.length; j += 97) delta[j] = (rng.uniform() - 0.5) * 1e-3;
      return { delta, meanLoss: 1, steps: 1, numExamples: 100 };
    },
    onEvent: (e) => {
      if (e.type === 'error') {
        const key = e.message.replace(/\d+/g, 'N').slice(0, 160);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    },
    // These vanish after sharing keys: the server must reconstruct their mask keys.
    ...(drops ? { dropBefore: (event: string) => event === SECAGG_EVENTS.maskedInput } : {}),
  });
});

parentPort!.on('message', (msg: { type: 'close' }) => {
  if (msg.type !== 'close') return;
  const disconnected = clients.filter((c) => !c.socket.connected).length;
  for (const c of clients) c.close();
  parentPort!.postMessage({ type: 'closed', disconnected, errors: Object.fromEntries(errors) });
});
parentPort!.postMessage({ type: 'started', x25519: cfg.nodeX25519 ? 'node:crypto' : 'noble' });
