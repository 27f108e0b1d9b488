import * as tf from '@tensorflow/tfjs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { SimclrModel } from './encoder';

/** One trainable weight's slot in the flat vector. */
export interface WeightEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** The stable order of all trainable weights; `hash` identifies the architecture. */
export interface WeightLayout {
  entries: WeightEntry[];
  totalSize: number;
  hash: string;
}

export class WeightLayoutMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightLayoutMismatchError';
  }
}

function trainableVariables(model: SimclrModel): { name: string; variable: tf.LayerVariable }[] {
  const out: { name: string; variable: tf.LayerVariable }[] = [];
  for (const part of [model.encoder, model.head]) {
    for (const layer of part.layers) {
      for (const w of layer.trainableWeights) {
        // originalName is "<layer>/<kernel|bias>" and does not get tfjs' uniquifying suffix.
        const suffix = w.originalName.split('/').pop() ?? w.originalName;
        out.push({ name: `${layer.name}/${suffix}`, variable: w });
      }
    }
  }
  return out;
}

export function layoutFromEntries(entries: { name: string; shape: number[] }[]): WeightLayout {
  let offset = 0;
  const full: WeightEntry[] = entries.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, shape: [...shape], offset, size };
    offset += size;
    return e;
  });
  const desc = full.map((e) => `${e.name}:${e.shape.join('x')}`).join(';');
  return { entries: full, totalSize: offset, hash: bytesToHex(sha256(utf8ToBytes(desc))).slice(0, 16) };
}

export function weightLayout(model: SimclrModel): WeightLayout {
  return layoutFromEntries(
    trainableVariables(model).map(({ name, variable }) => ({ name, shape: variable.shape as number[] })),
  );
}

/** Throws with the first differing entry when two layouts disagree. */
export function assertSameLayout(expected: WeightLayout, actual: WeightLayout): void {
  if (expected.hash === actual.hash) return;
  const n = Math.max(expected.entries.length, actual.entries.length);
  for (let i = 0; i < n; i++) {
    const a = expected.entries[i];
    const b = actual.entries[i];
    if (!a || !b || a.name !== b.name || a.shape.join() !== b.shape.join()) {
      const fmt = (e?: WeightEntry) => (e ? `${e.name} [${e.shape.join(',')}]` : '(none)');
      throw new WeightLayoutMismatchError(`weight layout mismatch at #${i}: expected ${fmt(a)}, got ${fmt(b)}`);
    }
  }
  throw new WeightLayoutMismatchError(`weight layout hash mismatch: ${expected.hash} vs ${actual.hash}`);
}

/** All trainable weights as one Float32Array in layout order. */
export function flattenWeights(model: SimclrModel): { layout: WeightLayout; data: Float32Array } {
  const vars = trainableVariables(model);
  const layout = weightLayout(model);
  const data = new Float32Array(layout.totalSize);
  vars.forEach(({ variable }, i) => {
    data.set(variable.read().dataSync() as Float32Array, layout.entries[i]!.offset);
  });
  return { layout, data };
}

/**
 * Async variant for GPU backends, where a synchronous read stalls the worker:
 * one concat on the device, one download.
 */
export async function flattenWeightsAsync(model: SimclrModel): Promise<{ layout: WeightLayout; data: Float32Array }> {
  const layout = weightLayout(model);
  const flat = tf.tidy(() => tf.concat(trainableVariables(model).map(({ variable }) => variable.read().reshape([-1]))));
  const data = new Float32Array(await flat.data());
  flat.dispose();
  return { layout, data };
}

/** Writes a flat vector back into the model; the layout must match the model's. */
export function unflattenWeights(model: SimclrModel, layout: WeightLayout, data: Float32Array): void {
  assertSameLayout(weightLayout(model), layout);
  if (data.length !== layout.totalSize) {
    throw new WeightLayoutMismatchError(`weight vector has ${data.length} values, layout needs ${layout.totalSize}`);
  }
  trainableVariables(model).forEach(({ variable }, i) => {
    const e = layout.entries[i]!;
    tf.tidy(() => {
      variable.write(tf.tensor(data.subarray(e.offset, e.offset + e.size), e.shape));
    });
  });
}

/** delta = local − global. */
export function computeDelta(local: Float32Array, global: Float32Array): Float32Array {
  if (local.length !== global.length) {
    throw new WeightLayoutMismatchError(`delta of vectors with different lengths: ${local.length} vs ${global.length}`);
  }
  const out = new Float32Array(local.length);
  for (let i = 0; i < out.length; i++) out[i] = local[i]! - global[i]!;
  return out;
}

/** base + scale · delta, as a new vector. */
export function applyDelta(base: Float32Array, delta: Float32Array, scale = 1): Float32Array {
  if (base.length !== delta.length) {
    throw new WeightLayoutMismatchError(`delta has ${delta.length} values, weights have ${base.length}`);
  }
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = base[i]! + scale * delta[i]!;
  return out;
}
