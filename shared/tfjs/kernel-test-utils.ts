// Helpers shared by the wasm kernel tests (compared against the cpu backend).
import { expect } from 'vitest';
import { createRng } from '../data/rng';

export type Shape4 = [number, number, number, number];

/** Seeded uniforms so failures reproduce. */
export function seededUniform(seed: number): () => number {
  const r = createRng(seed);
  return () => r.uniform();
}

export function randomValues(size: number, next: () => number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = next() * 2 - 1;
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** max|a − b| / max|b|: a relative error that is robust to entries near zero. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  expect(scale).toBeGreaterThan(0); // an all-zero reference would make the check vacuous
  return diff / scale;
}

/** Stride/padding settings every conv-gradient kernel is checked under. */
export const CONV_GRADIENT_CONFIGS: { strides: number | [number, number]; pad: 'same' | 'valid' | number }[] = [
  { strides: 1, pad: 'same' },
  { strides: 1, pad: 'valid' },
  { strides: 2, pad: 'same' },
  { strides: 2, pad: 'valid' },
  { strides: [2, 1], pad: 'same' },
  { strides: 2, pad: 1 },
];
