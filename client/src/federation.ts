import * as Comlink from 'comlink';
import { io, type Socket } from 'socket.io-client';
import {
  FederationClient,
  type FederationEvent,
  type LocalTrainer,
  type ModelCache,
} from '../../shared/federation/fed-client';
import type { LocalRoundResult } from '../../shared/federation/local-round';
import type { TrainingConfig } from '../../shared/protocol/round-config';
import type { ModelConfig } from '../../shared/model/config';
import type { BackendName } from './backend-names';
import type { TrainerApi } from './trainer.worker';
import { loadGlobalModel, saveGlobalModel } from './store';

/** A stable, random per-device id (not tied to the person). */
export function deviceClientId(): string {
  const key = 'fedssl.clientId';
  let id = localStorage.getItem(key);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id =
      'web-' +
      btoa(String.fromCharCode(...bytes))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    localStorage.setItem(key, id);
  }
  return id;
}

/** Global weights cached in IndexedDB by content hash, so reloads and reconnects skip the download. */
export const idbModelCache: ModelCache = {
  async get(hash) {
    return (await loadGlobalModel(hash))?.weights;
  },
  async put(hash, version, weights) {
    await saveGlobalModel({ hash, version, weights, savedAt: Date.now() });
  },
};

/** Runs rounds in the trainer worker; the page only relays weights in and the delta out. */
export function workerTrainer(
  trainer: Comlink.Remote<TrainerApi>,
  backend: BackendName,
  numExamples: () => number,
): LocalTrainer {
  return {
    backend,
    numExamples,
    async setModelConfig(config: ModelConfig) {
      await trainer.setFederationModel(config);
    },
    async train(global: Float32Array, training: TrainingConfig): Promise<LocalRoundResult> {
      const copy = global.slice(); // the cached copy stays in the page
      return trainer.trainRound(Comlink.transfer(copy, [copy.buffer]), training);
    },
  };
}

export interface Federation {
  socket: Socket;
  client: FederationClient;
  leave(): void;
}

export function joinFederation(opts: {
  token: string;
  trainer: LocalTrainer;
  onEvent: (e: FederationEvent) => void;
}): Federation {
  const clientId = deviceClientId();
  const socket = io({
    auth: { token: opts.token, clientId },
    transports: ['websocket'],
    // Keep trying after network loss; the server re-admits the same client id.
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10_000,
  });
  const client = new FederationClient(socket, opts.trainer, idbModelCache, {
    clientId,
    onEvent: opts.onEvent,
    ackTimeoutMs: 60_000,
  });
  return {
    socket,
    client,
    leave: () => socket.disconnect(),
  };
}
