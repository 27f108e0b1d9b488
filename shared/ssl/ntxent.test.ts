import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ntXentLoss } from './ntxent';

interface NtxentCase {
  name: string;
  temperature: number;
  z1: number[][];
  z2: number[][];
  loss: number;
  grad_z1?: number[][];
}

const refPath = resolve(import.meta.dirname, 'fixtures/ntxent_cases.json');
const cases = (JSON.parse(readFileSync(refPath, 'utf8')) as { cases: NtxentCase[] }).cases;

describe('NT-Xent against the reference cases', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('has reference cases to check', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const c of cases) {
    it(`loss matches ${c.name} to 1e-5`, () => {
      const loss = tf.tidy(() => ntXentLoss(tf.tensor2d(c.z1), tf.tensor2d(c.z2), c.temperature).dataSync()[0]!);
      expect(Math.abs(loss - c.loss)).toBeLessThan(1e-5);
    });
    if (c.grad_z1) {
      const expected = c.grad_z1;
      it(`gradient w.r.t. z1 matches ${c.name} to 1e-5`, () => {
        const grad = tf.tidy(() => {
          const z2 = tf.tensor2d(c.z2);
          const g = tf.grad((z1: tf.Tensor) => ntXentLoss(z1 as tf.Tensor2D, z2, c.temperature));
          return g(tf.tensor2d(c.z1)).arraySync() as number[][];
        });
        expected.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(grad[i]![j]! - v)).toBeLessThan(1e-5)));
      });
    }
  }

  it('is symmetric in the two views and lowest when views agree', () => {
    const { ab, ba, same } = tf.tidy(() => {
      const a = tf.randomNormal([16, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
      const b = tf.randomNormal([16, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
      return {
        ab: ntXentLoss(a, b).dataSync()[0]!,
        ba: ntXentLoss(b, a).dataSync()[0]!,
        same: ntXentLoss(a, a).dataSync()[0]!,
      };
    });
    expect(Math.abs(ab - ba)).toBeLessThan(1e-5);
    expect(same).toBeLessThan(ab);
  });

  it('rejects mismatched views and a non-positive temperature', () => {
    tf.tidy(() => {
      expect(() => ntXentLoss(tf.zeros([4, 3]), tf.zeros([5, 3]))).toThrow(/shapes differ/);
      expect(() => ntXentLoss(tf.zeros([4, 3]), tf.zeros([4, 3]), 0)).toThrow(/temperature/);
    });
  });
});
