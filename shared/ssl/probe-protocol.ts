/**
 * The benchmark's linear-probe protocol, as pure math on Float32Arrays (no tfjs):
 * standardise frozen features with the training split's statistics, then fit a
 * multinomial logistic regression to convergence with L-BFGS.
 *
 * Objective (sklearn's convention with C = 1, so results are comparable to it):
 *   J(W, b) = Σ_i CE(softmax(W·x_i + b), y_i) + ½‖W‖² / C,   scaled by 1/n.
 * The problem is strictly convex, so "trained to convergence" has one answer: no
 * learning rate, epoch count or seed can make one arm look better than another.
 */

export interface Standardized {
  train: Float32Array;
  test: Float32Array;
  /** Features whose training std was 0 are set to 0 in both splits. */
  constantFeatures: number;
}

/** (x − mean) / std per feature, statistics from the training rows only. */
export function standardize(train: Float32Array, test: Float32Array, dim: number): Standardized {
  if (dim <= 0 || train.length % dim !== 0 || test.length % dim !== 0)
    throw new Error(`standardize: arrays are not multiples of dim ${dim}`);
  const n = train.length / dim;
  if (n < 2) throw new Error('standardize: need at least 2 training rows');
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) mean[j]! += train[o + j]!;
  }
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      const d = train[o + j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  const inv = new Float64Array(dim);
  let constantFeatures = 0;
  for (let j = 0; j < dim; j++) {
    const sd = Math.sqrt(sq[j]! / n);
    // A constant feature carries no information; 1e-8 guards float noise around 0.
    if (sd > 1e-8) inv[j] = 1 / sd;
    else constantFeatures++;
  }
  const apply = (x: Float32Array) => {
    const out = new Float32Array(x.length);
    for (let o = 0; o < x.length; o += dim) for (let j = 0; j < dim; j++) out[o + j] = (x[o + j]! - mean[j]!) * inv[j]!;
    return out;
  };
  return { train: apply(train), test: apply(test), constantFeatures };
}

export interface LogRegOptions {
  /** Inverse regularisation strength (sklearn's C). */
  C: number;
  maxIterations: number;
  /** Stop when the gradient's max-abs entry falls below this. */
  gradTolerance: number;
  /** L-BFGS memory. */
  history: number;
}

export const DEFAULT_LOGREG_OPTIONS: LogRegOptions = { C: 1, maxIterations: 1000, gradTolerance: 1e-4, history: 10 };

/** J(params) with ∇J written into grad: the objective above, computed by whatever is fastest. */
export type LossGrad = (params: Float64Array, grad: Float64Array) => number;

export interface LogRegModel {
  /** dim × classes weights, then classes biases. */
  params: Float64Array;
  dim: number;
  classes: number;
  iterations: number;
  converged: boolean;
  /** Final objective value and gradient max-abs, so a report can show convergence. */
  loss: number;
  gradMax: number;
  /** Objective after each iteration (the probe's training curve). */
  lossHistory: number[];
}

/** J and ∇J of the scaled objective above. Weights are regularised, biases not. */
export function logRegLossGrad(
  params: Float64Array,
  x: Float32Array,
  y: Uint8Array,
  dim: number,
  classes: number,
  C: number,
  grad: Float64Array,
): number {
  const n = y.length;
  const wSize = dim * classes;
  grad.fill(0);
  const logits = new Float64Array(classes);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let k = 0; k < classes; k++) logits[k] = params[wSize + k]!;
    for (let j = 0; j < dim; j++) {
      const v = x[o + j]!;
      if (v === 0) continue;
      const w = j * classes;
      for (let k = 0; k < classes; k++) logits[k]! += v * params[w + k]!;
    }
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[k]!);
    let z = 0;
    for (let k = 0; k < classes; k++) {
      logits[k] = Math.exp(logits[k]! - max);
      z += logits[k]!;
    }
    const label = y[i]!;
    loss += Math.log(z) - Math.log(logits[label]!);
    // logits now hold p·z; turn them into p − onehot.
    for (let k = 0; k < classes; k++) logits[k] = logits[k]! / z - (k === label ? 1 : 0);
    for (let j = 0; j < dim; j++) {
      const v = x[o + j]!;
      if (v === 0) continue;
      const w = j * classes;
      for (let k = 0; k < classes; k++) grad[w + k]! += v * logits[k]!;
    }
    for (let k = 0; k < classes; k++) grad[wSize + k]! += logits[k]!;
  }
  let reg = 0;
  for (let i = 0; i < wSize; i++) {
    reg += params[i]! * params[i]!;
    grad[i]! += params[i]! / C;
  }
  loss += reg / (2 * C);
  for (let i = 0; i < grad.length; i++) grad[i]! /= n;
  return loss / n;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: Float64Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/**
 * L-BFGS (Nocedal & Wright 2006, Algorithm 7.4 two-loop recursion) with a
 * backtracking Armijo line search. Deterministic: starts from zero.
 */
export function fitLogisticRegression(
  x: Float32Array,
  y: Uint8Array,
  dim: number,
  classes: number,
  options: Partial<LogRegOptions> = {},
  /** Replaces the plain-JS objective (e.g. with matrix products on a tfjs backend). */
  makeLossGrad?: (x: Float32Array, y: Uint8Array, dim: number, classes: number, C: number) => LossGrad,
): LogRegModel {
  const o = { ...DEFAULT_LOGREG_OPTIONS, ...options };
  if (x.length !== y.length * dim)
    throw new Error(`fitLogisticRegression: ${x.length} values for ${y.length} rows of dim ${dim}`);
  for (const l of y) if (l >= classes) throw new Error(`fitLogisticRegression: label ${l} ≥ classes ${classes}`);
  const lossGrad: LossGrad = makeLossGrad
    ? makeLossGrad(x, y, dim, classes, o.C)
    : (p, gr) => logRegLossGrad(p, x, y, dim, classes, o.C, gr);
  const size = dim * classes + classes;
  let w = new Float64Array(size);
  let g = new Float64Array(size);
  let f = lossGrad(w, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const lossHistory = [f];
  let iterations = 0;
  let converged = maxAbs(g) < o.gradTolerance;
  const dir = new Float64Array(size);
  const wNew = new Float64Array(size);
  const gNew = new Float64Array(size);
  while (!converged && iterations < o.maxIterations) {
    // Two-loop recursion: dir = −H·g.
    dir.set(g);
    const alpha: number[] = new Array<number>(S.length);
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(S[i]!, dir);
      const yi = Y[i]!;
      for (let j = 0; j < size; j++) dir[j]! -= alpha[i]! * yi[j]!;
    }
    const gamma =
      S.length > 0
        ? dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!)
        : 1 / Math.max(1, maxAbs(g));
    for (let j = 0; j < size; j++) dir[j]! *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i]! * dot(Y[i]!, dir);
      const si = S[i]!;
      for (let j = 0; j < size; j++) dir[j]! += si[j]! * (alpha[i]! - beta);
    }
    for (let j = 0; j < size; j++) dir[j] = -dir[j]!;
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let j = 0; j < size; j++) dir[j] = -g[j]!;
      slope = dot(g, dir);
    }
    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < size; j++) wNew[j] = w[j]! + step * dir[j]!;
      fNew = lossGrad(wNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    iterations++;
    if (!(fNew < f)) {
      // The line search cannot decrease J any more: we are at float precision.
      converged = true;
      break;
    }
    const s = new Float64Array(size);
    const yv = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      s[j] = wNew[j]! - w[j]!;
      yv[j] = gNew[j]! - g[j]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > o.history) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    [w, g] = [Float64Array.from(wNew), Float64Array.from(gNew)];
    f = fNew;
    lossHistory.push(f);
    converged = maxAbs(g) < o.gradTolerance;
  }
  return { params: w, dim, classes, iterations, converged, loss: f, gradMax: maxAbs(g), lossHistory };
}

/** Arg-max predictions of a fitted model. */
export function predictLogReg(model: LogRegModel, x: Float32Array): Uint8Array {
  const { dim, classes, params } = model;
  const n = x.length / dim;
  const out = new Uint8Array(n);
  const logits = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < classes; k++) logits[k] = params[dim * classes + k]!;
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j]!;
      for (let k = 0; k < classes; k++) logits[k]! += v * params[j * classes + k]!;
    }
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[k]! > logits[best]!) best = k;
    out[i] = best;
  }
  return out;
}

export function accuracy(pred: Uint8Array, labels: Uint8Array): number {
  if (pred.length !== labels.length || labels.length === 0) throw new Error('accuracy: length mismatch or empty');
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hit++;
  return hit / labels.length;
}

export interface ProbeProtocolResult {
  testAccuracy: number;
  trainAccuracy: number;
  trainCount: number;
  testCount: number;
  iterations: number;
  converged: boolean;
  /** The regularisation picked on the validation rows (or the only one given). */
  C: number;
  /** Validation accuracy of each C tried, in grid order. */
  validation?: { C: number; accuracy: number }[];
}

/** C values tried when a validation split is given: a larger representation gets the regularisation it needs. */
export const DEFAULT_C_GRID = [0.01, 0.1, 1] as const;

/**
 * The whole protocol: first `trainCount` labelled rows → standardise (training
 * statistics) → for each C in the grid fit to convergence and score on the validation
 * rows (never the test rows) → the best C's test accuracy.
 */
export function runProbeProtocol(
  train: { features: Float32Array; labels: Uint8Array },
  test: { features: Float32Array; labels: Uint8Array },
  dim: number,
  classes: number,
  trainCount: number,
  options: Partial<LogRegOptions> & {
    cGrid?: readonly number[];
    validation?: { features: Float32Array; labels: Uint8Array };
  } = {},
  makeLossGrad?: Parameters<typeof fitLogisticRegression>[5],
): ProbeProtocolResult {
  const n = Math.min(trainCount, train.labels.length);
  const trainX = train.features.subarray(0, n * dim);
  const trainY = train.labels.subarray(0, n);
  const { cGrid, validation, ...fitOptions } = options;
  const grid = validation && cGrid && cGrid.length > 0 ? cGrid : [fitOptions.C ?? DEFAULT_LOGREG_OPTIONS.C];
  const s = standardize(trainX, test.features, dim);
  const sv = validation ? standardize(trainX, validation.features, dim).test : undefined;
  let best: { model: LogRegModel; C: number; acc: number } | undefined;
  const tried: { C: number; accuracy: number }[] = [];
  for (const C of grid) {
    const model = fitLogisticRegression(s.train, trainY, dim, classes, { ...fitOptions, C }, makeLossGrad);
    const acc = sv && validation ? accuracy(predictLogReg(model, sv), validation.labels) : 0;
    tried.push({ C, accuracy: acc });
    if (!best || acc > best.acc) best = { model, C, acc };
  }
  const { model, C } = best!;
  return {
    testAccuracy: accuracy(predictLogReg(model, s.test), test.labels),
    trainAccuracy: accuracy(predictLogReg(model, s.train), trainY),
    trainCount: n,
    testCount: test.labels.length,
    iterations: model.iterations,
    converged: model.converged,
    C,
    ...(validation ? { validation: tried } : {}),
  };
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, sd: 0, n };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.sqrt(v), n };
}
