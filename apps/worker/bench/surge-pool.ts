/**
 * Several runs of the surge bench taken together (issue 15: "p95 unchanged within noise"): the p95 of
 * the ordinary matches' latencies before and during the burst over all the runs, and how far apart
 * they are beyond chance (surge-stats.ts).
 *
 *   SURGE_BENCH_DEBUG=1 node apps/worker/bench/surge-bench.ts > run1.log   (as many runs as wanted)
 *   node apps/worker/bench/surge-pool.ts run1.log run2.log …
 *
 * Reads the `before:` and `during:` lines (latencies in ms) that the bench prints with SURGE_BENCH_DEBUG.
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../test/surge-scenario.ts';
import { difference, ratio, seconds, spread } from './surge-stats.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error(
    'usage: node apps/worker/bench/surge-pool.ts RUN.log… (surge-bench.ts output with SURGE_BENCH_DEBUG=1)',
  );
  process.exit(2);
}
const pooled = { before: [] as number[], during: [] as number[] };
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const key of ['before', 'during'] as const) {
    const line = text.split('\n').find((l) => l.startsWith(`${key}:`));
    if (line === undefined) {
      console.error(`${file}: no "${key}:" line (run the bench with SURGE_BENCH_DEBUG=1)`);
      process.exit(2);
    }
    const values = line
      .slice(key.length + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      console.error(`${file}: the "${key}:" line holds something other than numbers`);
      process.exit(2);
    }
    pooled[key].push(...values);
  }
}
const [before, during] = [percentile(pooled.before, 95), percentile(pooled.during, 95)];
console.log(`surge runs pooled: ${files.length}`);
console.log(
  `  ordinary matches, post → review message: before the burst p95 ${seconds(before)} (n=${pooled.before.length}); during it p95 ${seconds(during)} (n=${pooled.during.length}; ${ratio(during, before)} before)`,
);
console.log(
  `    by chance (p95 of resamples, 5th–95th percentile): before ${spread(pooled.before)}, during ${spread(pooled.during)}`,
);
console.log(`    p95 during − before, 90% of resamples: ${difference(pooled.before, pooled.during)}`);
