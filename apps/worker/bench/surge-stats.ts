/**
 * How the surge bench (surge-bench.ts) and its pooling of runs (surge-pool.ts) tell a p95 that moved
 * from one that moved by chance: bootstrap resamples of the run's own latencies, drawn from the
 * sandbox's seeded generator so that the same data prints the same figures.
 */
import { createRandom } from '@kikimimi/sandbox';
import { percentile } from '../test/surge-scenario.ts';

export const seconds = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);

export const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? 'n/a ×' : `${(a / b).toFixed(2)}×`;

const resampler = (seed: number) => {
  const random = createRandom(seed);
  return (values: readonly number[]) => values.map(() => values[random.int(values.length)] as number);
};

/**
 * How much a p95 of these latencies moves by chance: the 5th and 95th percentiles of the p95 of 2,000
 * resamples (with replacement).
 */
export const spread = (values: readonly number[]) => {
  if (values.length === 0) return 'n/a';
  const resample = resampler(42);
  const p95s = Array.from({ length: 2_000 }, () => percentile(resample(values), 95) as number);
  return `${seconds(percentile(p95s, 5))}–${seconds(percentile(p95s, 95))}`;
};

/**
 * How far apart two p95s are beyond chance: the 5th and 95th percentiles of p95(during) − p95(before)
 * over 2,000 resamples of both. An interval that holds 0 says the burst's p95 is the calm one's within
 * noise.
 */
export const difference = (before: readonly number[], during: readonly number[]) => {
  if (before.length === 0 || during.length === 0) return 'n/a';
  const resample = resampler(7);
  const deltas = Array.from(
    { length: 2_000 },
    () => (percentile(resample(during), 95) as number) - (percentile(resample(before), 95) as number),
  );
  const [low, high] = [percentile(deltas, 5) as number, percentile(deltas, 95) as number];
  const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${seconds(Math.abs(ms))}`;
  const verdict =
    low <= 0 && high >= 0 ? 'within noise' : low > 0 ? 'slower beyond noise' : 'faster beyond noise';
  return `${signed(low)} to ${signed(high)}: ${verdict}`;
};
