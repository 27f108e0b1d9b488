/**
 * The supervised ceiling of bench:quality: the same encoder trained end to end with
 * the labels of the probe's labelled rows (a linear softmax layer on the
 * representation, cross-entropy, the recipe's augmentations, optimizer and schedule,
 * the same budget of images), then frozen and probed like every other arm.
 *
 * It is not self-supervised and not a product arm: it answers "how far can any
 * encoder of this architecture go under this probe", so a target above it is known
 * to need a larger encoder rather than a better SSL recipe.
 */
import * as tf from '@tensorflow/tfjs';
import { encode, type SimclrModel } from '../../shared/model/encoder';
import { representationDim } from '../../shared/model/config';
import { augmentBatch, makeRng } from '../../shared/ssl/augment';
import { ScheduledAdam } from '../../shared/ssl/train-step';
import { warmupCosineLr } from '../../shared/ssl/lr-schedule';
import { FLIP_VALID, grayscaleRecipePolicy, recipeSchedule, SIMCLR_RECIPE } from '../../shared/ssl/recipe';
import { createRng, deriveSeed } from '../../shared/data/rng';
import { subset, toFloatBatch, type DatasetSplit } from '../../shared/data/dataset';
import { sampleWithoutReplacement } from '../../shared/federation/local-round';

export interface SupervisedRun {
  labels: number;
  budget: number;
  seed: number;
  /** Called after every step with the images processed so far and the step's loss. */
  onStep: (images: number, loss: number, lr: number) => Promise<void> | void;
}

/** Trains `model.encoder` in place with labels; the projection head is not used. Returns images processed. */
export async function trainSupervisedCeiling(
  model: SimclrModel,
  split: DatasetSplit,
  o: SupervisedRun,
): Promise<number> {
  const data = split.train;
  if (o.labels > data.count) throw new Error(`supervised ceiling: ${o.labels} labels > ${data.count} training images`);
  // Only the probe's labelled rows: the validation rows that pick C and the test split stay unseen.
  const labelled = subset(
    data,
    Array.from({ length: o.labels }, (_, i) => i),
  );
  const batch = Math.min(SIMCLR_RECIPE.batchSize, labelled.count);
  const steps = Math.max(1, Math.round(o.budget / batch));
  const schedule = recipeSchedule(steps);
  const policy = grayscaleRecipePolicy({ flip: FLIP_VALID['fashion-mnist'] });
  const classifier = tf.sequential({
    name: 'ceiling',
    layers: [
      tf.layers.dense({
        name: 'ceiling_softmax',
        inputShape: [representationDim(model.config)],
        units: data.numClasses,
      }),
    ],
  });
  const optimizer = new ScheduledAdam(schedule.peak, 0.9, 0.999, 1e-7);
  const vars = [
    ...model.encoder.trainableWeights.map((w) => w.read() as tf.Variable),
    ...classifier.trainableWeights.map((w) => w.read() as tf.Variable),
  ];
  const rng = createRng(deriveSeed(o.seed, 'ceiling-batches'));
  const augmentRng = makeRng(deriveSeed(o.seed, 'ceiling-augment'));
  const shape = [data.height, data.width, data.channels] as const;
  let images = 0;
  try {
    for (let step = 0; step < steps; step++) {
      const lr = warmupCosineLr(step, schedule);
      optimizer.setLearningRate(lr);
      const idx = sampleWithoutReplacement(labelled.count, batch, () => rng.uniform());
      const x = tf.tensor4d(toFloatBatch(labelled, idx), [batch, ...shape]);
      const y = tf.tidy(() =>
        tf.oneHot(
          tf.tensor1d(
            idx.map((i) => labelled.labels[i]!),
            'int32',
          ),
          data.numClasses,
        ),
      );
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const logits = classifier.apply(encode(model, augmentBatch(x, policy, { rng: augmentRng }))) as tf.Tensor2D;
            return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
          }),
        true,
        vars,
      );
      x.dispose();
      y.dispose();
      if (!loss) throw new Error('optimizer returned no loss');
      const value = (await loss.data())[0]!;
      loss.dispose();
      images += batch;
      await o.onStep(images, value, lr);
    }
  } finally {
    optimizer.dispose();
    classifier.dispose();
  }
  return images;
}
