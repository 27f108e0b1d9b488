/**
 * This device's part in federated rounds: a model with the server's architecture, kept apart from the local
 * model, trained from the global weights on the local data; only the delta and scalars leave.
 */
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../../shared/model/encoder';
import { ModelConfigSchema } from '../../../shared/model/config';
import { weightLayout } from '../../../shared/model/weights';
import { trainLocalRound, type LocalRoundResult } from '../../../shared/federation/local-round';
import type { TrainingConfig } from '../../../shared/protocol/round-config';
import type { WorkerSession } from './session';

export class FederationParticipant {
  private model?: SimclrModel;

  constructor(private readonly session: WorkerSession) {}

  /** Builds the federation model with the server's architecture (rebuilt only when it changes). */
  setModel(config: unknown): { parameters: number } {
    const cfg = ModelConfigSchema.parse(config);
    if (!this.model || JSON.stringify(this.model.config) !== JSON.stringify(cfg)) {
      if (this.model) disposeSimclrModel(this.model);
      this.model = createSimclrModel(cfg);
    }
    return { parameters: weightLayout(this.model).totalSize };
  }

  /** One federated round on local data. */
  async trainRound(
    globalWeights: Float32Array,
    training: TrainingConfig,
    onStep?: (step: number, loss: number) => void,
  ): Promise<LocalRoundResult> {
    const model = this.model;
    if (!model) throw new Error('join the federation first (no server model config yet)');
    const data = this.session.data;
    if (!data) throw new Error('load a dataset before joining the federation');
    if (this.session.running) throw new Error('pause local training before a federated round');
    return this.session.exclusive(() =>
      trainLocalRound({
        model,
        layout: weightLayout(model),
        globalWeights,
        data: data.split.train,
        training,
        ...(onStep ? { onStep } : {}),
      }),
    );
  }
}
