/**
 * Worker side of the EncoderScorer: the evaluation's compute (the held-out split, frozen-encoder features,
 * the probe fits, the raw-pixel baseline) on its own thread and tfjs instance, below the event loop's
 * priority. On the main thread one 64-image feature batch of the default model held the loop ~0.2 s and the
 * raw-pixel probe fit longer. No I/O besides the port: weights come in the messages.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadNpmDataset } from '../data/npm-datasets';
import { createSimclrModel, disposeSimclrModel, type SimclrModel } from '../../shared/model/encoder';
import { unflattenWeights } from '../../shared/model/weights';
import type { DatasetSplit } from '../../shared/data/dataset';
import { initWasmBackendForNode } from '../../shared/tfjs/wasm-node';
import { extractFeatures } from '../../shared/ssl/probe';
import { lowerThisThread } from '../thread-priority';
import { protocolProbe, rawPixelBaseline } from './raw-baseline';
import type { ScorerReply, ScorerRequest, EncoderSpec } from './scorer-messages';

const nice = lowerThisThread((workerData as { nice?: number } | undefined)?.nice ?? 0);
let split: DatasetSplit | undefined;
let batchSize = 64;

function model(spec: EncoderSpec): SimclrModel {
  const m = createSimclrModel(spec.config, spec.seed);
  if (spec.weights) unflattenWeights(m, spec.weights.layout, spec.weights.data);
  return m;
}

/** Frozen-encoder features of the first `count` images (the shared extractor; no yielding needed off the loop). */
function features(encoder: tf.LayersModel, images: Uint8Array, count: number, shape: [number, number, number]) {
  const per = shape[0] * shape[1] * shape[2];
  return extractFeatures(encoder, images.subarray(0, count * per), count, shape, batchSize);
}

async function handle(req: ScorerRequest): Promise<ScorerReply> {
  if (req.kind === 'init') {
    await initWasmBackendForNode();
    batchSize = req.options.batchSize;
    const o = req.options;
    split = loadNpmDataset(o.dataset, {
      trainPerClass: Math.ceil((o.trainImages + o.validationImages) / 10),
      testPerClass: Math.ceil(Math.max(o.testImages, o.referenceImages) / 10),
    });
    return { id: req.id, kind: 'init', trainCount: split.train.count, testCount: split.test.count, nice };
  }
  if (!split) throw new Error('scorer worker: init first');
  const s = split;
  if (req.kind === 'raw') return { id: req.id, kind: 'raw', accuracy: rawPixelBaseline(s, req.setup).testAccuracy };
  const m = model(req.encoder);
  try {
    const shape = req.encoder.config.inputShape;
    if (req.kind === 'reference') {
      const f = await features(m.encoder, s.test.images, req.referenceCount, shape);
      return { id: req.id, kind: 'reference', emb: f.features, dim: f.dim };
    }
    const { setup } = req;
    const train = await features(m.encoder, s.train.images, setup.labels + setup.validation, shape);
    const test = await features(m.encoder, s.test.images, req.testCount, shape);
    const r = protocolProbe(
      { features: train.features, labels: s.train.labels.subarray(0, setup.labels + setup.validation) },
      { features: test.features.subarray(0, setup.test * test.dim), labels: s.test.labels.subarray(0, setup.test) },
      train.dim,
      s.train.numClasses,
      setup,
    );
    return {
      id: req.id,
      kind: 'score',
      accuracy: r.testAccuracy,
      ref: test.features.slice(0, req.referenceCount * test.dim),
      dim: test.dim,
    };
  } finally {
    disposeSimclrModel(m);
  }
}

parentPort!.on('message', (req: ScorerRequest) => {
  handle(req).then(
    (reply) => {
      const transfer =
        reply.kind === 'score' ? [reply.ref.buffer] : reply.kind === 'reference' ? [reply.emb.buffer] : [];
      parentPort!.postMessage(reply, transfer as ArrayBuffer[]);
    },
    (err: unknown) =>
      parentPort!.postMessage({ id: req.id, kind: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
