import { io, type Socket } from 'socket.io-client';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../shared/model/encoder';
import type { ModelConfig } from '../../shared/model/config';
import { weightLayout } from '../../shared/model/weights';
import type { ImageDataset } from '../../shared/data/dataset';
import { trainLocalRound, type LocalRoundResult } from '../../shared/federation/local-round';
import {
  FederationClient,
  MemoryModelCache,
  type FederationEvent,
  type LocalTrainer,
} from '../../shared/federation/fed-client';
import type { TrainingConfig } from '../../shared/protocol/round-config';
import type { RoundStart } from '../../shared/protocol/messages';

export interface NodeClientOptions {
  url: string;
  token?: string;
  clientId?: string;
  name?: string;
  modelConfig: ModelConfig;
  data: ImageDataset;
  /** Replace local training (protocol-level clients in benchmarks). */
  trainOverride?: (global: Float32Array, training: TrainingConfig, round: RoundStart) => Promise<LocalRoundResult>;
  onEvent?: (e: FederationEvent) => void;
  /** Fault injection: vanish instead of sending this event. */
  dropBefore?: (event: string) => boolean;
  /** Called with each result before upload (tests record the deltas). */
  onTrained?: (round: RoundStart, result: LocalRoundResult) => void;
  autoConnect?: boolean;
  /** Ack timeout of every emit (default 30 s); in-process benches whose clients share one busy thread need more. */
  ackTimeoutMs?: number;
}

/** A federated client in Node: real socket.io-client + the shared SimCLR round code on tfjs. */
export class NodeFederatedClient implements LocalTrainer {
  readonly id: string;
  readonly socket: Socket;
  readonly client: FederationClient;
  readonly backend = tf.getBackend() === 'wasm' ? ('node-wasm' as const) : ('node-cpu' as const);
  private model?: SimclrModel;

  constructor(private readonly opts: NodeClientOptions) {
    this.id = opts.clientId ?? `node-${randomBytes(6).toString('hex')}`;
    this.socket = io(opts.url, {
      auth: {
        clientId: this.id,
        ...(opts.token ? { token: opts.token } : {}),
        ...(opts.name ? { name: opts.name } : {}),
      },
      transports: ['websocket'],
      reconnection: false,
      autoConnect: opts.autoConnect ?? true,
    });
    this.client = new FederationClient(this.socket, this, new MemoryModelCache(), {
      clientId: this.id,
      ...(opts.ackTimeoutMs ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.dropBefore ? { dropBefore: opts.dropBefore } : {}),
    });
  }

  numExamples(): number {
    return this.opts.data.count;
  }

  async train(global: Float32Array, training: TrainingConfig, round: RoundStart): Promise<LocalRoundResult> {
    let result: LocalRoundResult;
    if (this.opts.trainOverride) {
      result = await this.opts.trainOverride(global, training, round);
    } else {
      this.model ??= createSimclrModel(this.opts.modelConfig);
      result = await trainLocalRound({
        model: this.model,
        layout: weightLayout(this.model),
        globalWeights: global,
        data: this.opts.data,
        training,
      });
    }
    this.opts.onTrained?.(round, result);
    return result;
  }

  /** Resolves when an event matching `pred` has been (or is) emitted. */
  waitFor(pred: (e: FederationEvent) => boolean, timeoutMs = 60_000): Promise<FederationEvent> {
    const seen = this.client.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client ${this.id}: timed out waiting for event`)), timeoutMs);
      const poll = setInterval(() => {
        const e = this.client.events.find(pred);
        if (e) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(e);
        }
      }, 20);
    });
  }

  close(): void {
    this.socket.disconnect();
    if (this.model) disposeSimclrModel(this.model);
    this.model = undefined;
  }
}
