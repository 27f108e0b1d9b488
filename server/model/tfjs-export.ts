import * as tf from '@tensorflow/tfjs';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { unflattenWeights } from '../../shared/model/weights';
import type { GlobalModel } from './global-model';

export interface TfjsExport {
  modelJson: unknown;
  weights: Uint8Array;
}

/**
 * Exports a global version in the tfjs layers format (model.json + weights.bin),
 * loadable with tf.loadLayersModel. `part` picks the encoder (the reusable
 * representation) or the projection head.
 */
export async function exportTfjs(model: GlobalModel, part: 'encoder' | 'head' = 'encoder'): Promise<TfjsExport> {
  const m = createSimclrModel(model.config);
  try {
    unflattenWeights(m, model.layout, model.weights);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await (part === 'encoder' ? m.encoder : m.head).save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('tfjs export produced no weights');
    const data =
      artifacts.weightData instanceof ArrayBuffer
        ? artifacts.weightData
        : tf.io.concatenateArrayBuffers(artifacts.weightData);
    return {
      modelJson: {
        format: 'layers-model',
        generatedBy: `FedSSL v${model.version}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: { fedsslVersion: model.version, weightsHash: model.hash, part, modelConfig: model.config },
      },
      weights: new Uint8Array(data),
    };
  } finally {
    disposeSimclrModel(m);
  }
}
