import type { ModelConfig } from '../../shared/model/config';
import type { WeightLayout } from '../../shared/model/weights';
import type { ProbeSetup } from '../../shared/ssl/probe-baselines';
import type { EvaluationOptions } from './evaluation-options';

/** An encoder to build in the worker: stored weights, or a seeded random init. */
export interface EncoderSpec {
  config: ModelConfig;
  seed?: number;
  weights?: { layout: WeightLayout; data: Float32Array };
}

/** Messages between the EncoderScorer (main thread) and its worker (in-process only, never on the wire). */
export type ScorerRequest =
  | { id: number; kind: 'init'; options: EvaluationOptions }
  | { id: number; kind: 'raw'; setup: ProbeSetup }
  | { id: number; kind: 'score'; encoder: EncoderSpec; setup: ProbeSetup; testCount: number; referenceCount: number }
  | { id: number; kind: 'reference'; encoder: EncoderSpec; referenceCount: number };

export type ScorerReply =
  | { id: number; kind: 'init'; trainCount: number; testCount: number; nice: number }
  | { id: number; kind: 'raw'; accuracy: number }
  | { id: number; kind: 'score'; accuracy: number; ref: Float32Array; dim: number }
  | { id: number; kind: 'reference'; emb: Float32Array; dim: number }
  | { id: number; kind: 'error'; message: string };
