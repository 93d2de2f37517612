/**
 * Multinomial logistic regression with an L2 penalty, fitted by L-BFGS: what trains the intent
 * model (scripts/train-intent-model.ts, corpus/cross-validate.ts). Training only; the classifier
 * itself only multiplies (src/classify/model.ts).
 *
 * Full-batch and without randomness: the same rows give the same weights, bit for bit.
 * Small on purpose (about a thousand posts, 2^15 × 5 weights): no library needed (ADR 011).
 */

/** One training example: sparse features (indices ascending, values) and its class. */
export interface Example {
  readonly indices: Int32Array;
  readonly values: Float64Array;
  readonly label: number;
}

export interface FitOptions {
  /** Number of features (weights per class). */
  readonly features: number;
  readonly classes: number;
  /** L2 penalty per weight: the loss is mean cross-entropy + lambda / 2 · |w|². */
  readonly lambda: number;
  /** At most this many L-BFGS steps. */
  readonly maxIterations?: number;
  /** Stop when the loss improves by less than this share. */
  readonly tolerance?: number;
}

/** Weights feature-major: weights[feature × classes + class]. */
export type Weights = Float64Array;

/** The scores of one example: out[class] = Σ weights[feature × classes + class] × value. */
export function scoresOf(
  weights: Weights,
  example: Example,
  classes: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  const { indices, values } = example;
  for (let j = 0; j < indices.length; j++) {
    const base = (indices[j] as number) * classes;
    const value = values[j] as number;
    for (let k = 0; k < classes; k++) out[k] = (out[k] as number) + (weights[base + k] as number) * value;
  }
  return out;
}

/** Mean cross-entropy plus the penalty; the gradient goes into `gradient`. */
function lossAndGradient(
  weights: Weights,
  examples: readonly Example[],
  options: FitOptions,
  gradient: Float64Array,
): number {
  const { classes, lambda } = options;
  gradient.fill(0);
  const z = new Float64Array(classes);
  let loss = 0;
  for (const example of examples) {
    scoresOf(weights, example, classes, z);
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, z[k] as number);
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      z[k] = Math.exp((z[k] as number) - max);
      sum += z[k] as number;
    }
    loss -= Math.log((z[example.label] as number) / sum);
    for (let k = 0; k < classes; k++) z[k] = (z[k] as number) / sum - (k === example.label ? 1 : 0);
    const { indices, values } = example;
    for (let j = 0; j < indices.length; j++) {
      const base = (indices[j] as number) * classes;
      const value = values[j] as number;
      for (let k = 0; k < classes; k++)
        gradient[base + k] = (gradient[base + k] as number) + (z[k] as number) * value;
    }
  }
  const n = Math.max(1, examples.length);
  let penalty = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    gradient[i] = (gradient[i] as number) / n + lambda * w;
    penalty += w * w;
  }
  return loss / n + (lambda / 2) * penalty;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** Fits the weights (L-BFGS, ten remembered steps, backtracking line search). */
export function fitLogistic(examples: readonly Example[], options: FitOptions): Weights {
  const size = options.features * options.classes;
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-7;
  const memory = 10;
  const weights = new Float64Array(size);
  const gradient = new Float64Array(size);
  const direction = new Float64Array(size);
  const trial = new Float64Array(size);
  const trialGradient = new Float64Array(size);
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rho: number[] = [];
  let loss = lossAndGradient(weights, examples, options, gradient);

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    // Two-loop recursion: direction = −H·gradient.
    for (let i = 0; i < size; i++) direction[i] = -(gradient[i] as number);
    const alpha: number[] = new Array(steps.length).fill(0);
    for (let m = steps.length - 1; m >= 0; m--) {
      const a = (rho[m] as number) * dot(steps[m] as Float64Array, direction);
      alpha[m] = a;
      const y = changes[m] as Float64Array;
      for (let i = 0; i < size; i++) direction[i] = (direction[i] as number) - a * (y[i] as number);
    }
    if (steps.length > 0) {
      const s = steps[steps.length - 1] as Float64Array;
      const y = changes[changes.length - 1] as Float64Array;
      const gamma = dot(s, y) / dot(y, y);
      for (let i = 0; i < size; i++) direction[i] = (direction[i] as number) * gamma;
    }
    for (let m = 0; m < steps.length; m++) {
      const b = (rho[m] as number) * dot(changes[m] as Float64Array, direction);
      const s = steps[m] as Float64Array;
      const factor = (alpha[m] as number) - b;
      for (let i = 0; i < size; i++) direction[i] = (direction[i] as number) + factor * (s[i] as number);
    }
    const slope = dot(gradient, direction);
    if (slope >= 0) break; // not a descent direction: converged as far as doubles tell
    let step = 1;
    let trialLoss = loss;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) trial[i] = (weights[i] as number) + step * (direction[i] as number);
      trialLoss = lossAndGradient(trial, examples, options, trialGradient);
      if (trialLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = (trial[i] as number) - (weights[i] as number);
      y[i] = (trialGradient[i] as number) - (gradient[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      steps.push(s);
      changes.push(y);
      rho.push(1 / sy);
      if (steps.length > memory) {
        steps.shift();
        changes.shift();
        rho.shift();
      }
    }
    weights.set(trial);
    gradient.set(trialGradient);
    const improved = loss - trialLoss;
    loss = trialLoss;
    if (improved < tolerance * Math.max(1, Math.abs(loss))) break;
  }
  return weights;
}
