import { describe, expect, it } from 'vitest';
import { type Example, fitLogistic, scoresOf } from './logistic.ts';

/** Three classes, each told by its own feature (0, 1, 2); feature 3 is always on (a bias). */
function examples(): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < 30; i++) {
    const label = i % 3;
    out.push({
      indices: Int32Array.from([label, 3]),
      values: Float64Array.from([1 + (i % 5) / 10, 1]),
      label,
    });
  }
  return out;
}

function predict(weights: Float64Array, example: Example): number {
  const scores = scoresOf(weights, example, 3, new Float64Array(3));
  return scores.indexOf(Math.max(...scores));
}

describe('fitLogistic', () => {
  it('learns a separable problem', () => {
    const data = examples();
    const weights = fitLogistic(data, { features: 4, classes: 3, lambda: 1e-3 });
    for (const example of data) expect(predict(weights, example)).toBe(example.label);
    // The class's own feature weighs most for it.
    expect(weights[0 * 3 + 0]).toBeGreaterThan(weights[0 * 3 + 1] as number);
    expect(weights[1 * 3 + 1]).toBeGreaterThan(weights[1 * 3 + 2] as number);
  });

  it('is deterministic: the same rows give the same weights, bit for bit', () => {
    const a = fitLogistic(examples(), { features: 4, classes: 3, lambda: 1e-2 });
    const b = fitLogistic(examples(), { features: 4, classes: 3, lambda: 1e-2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('shrinks the weights as the penalty grows', () => {
    const norm = (w: Float64Array) => Math.hypot(...w);
    const loose = fitLogistic(examples(), { features: 4, classes: 3, lambda: 1e-3 });
    const tight = fitLogistic(examples(), { features: 4, classes: 3, lambda: 1 });
    expect(norm(tight)).toBeLessThan(norm(loose) / 2);
  });

  it('reaches the minimum: the gradient of the penalised loss is about zero', () => {
    const data = examples();
    const lambda = 0.1;
    const weights = fitLogistic(data, {
      features: 4,
      classes: 3,
      lambda,
      tolerance: 1e-12,
      maxIterations: 500,
    });
    const gradient = new Float64Array(weights.length);
    for (const example of data) {
      const z = scoresOf(weights, example, 3, new Float64Array(3));
      const max = Math.max(...z);
      const exp = z.map((v) => Math.exp(v - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      for (let j = 0; j < example.indices.length; j++) {
        for (let k = 0; k < 3; k++) {
          const p = (exp[k] as number) / sum - (k === example.label ? 1 : 0);
          const at = (example.indices[j] as number) * 3 + k;
          gradient[at] = (gradient[at] as number) + (p * (example.values[j] as number)) / data.length;
        }
      }
    }
    for (let i = 0; i < weights.length; i++) {
      expect(Math.abs((gradient[i] as number) + lambda * (weights[i] as number))).toBeLessThan(1e-4);
    }
  });
});
