/**
 * The pacing of review messages (src/discord/pacing.ts) against sending them as they come, in a
 * simulated channel: Poisson arrivals of reviews, Discord's fixed window of `--limit` messages per
 * `--window-s` starting at a window's first message, up to 4 reviews a message (REVIEWS_PER_MESSAGE).
 * Prints, per arrival rate, the p95 and the longest wait from a review's arrival to its message and
 * the messages sent, both ways, and the ratio of the p95s. Simulated time: no clock, no noise.
 *
 *   node apps/worker/bench/pacing-sim.ts [--hours 2] [--limit 5] [--window-s 5] [--rates 0.2,0.5,0.8,1,1.5,2,3]
 */
import { parseArgs } from 'node:util';
import { createRandom } from '@kikimimi/sandbox';
import { createChannelPacing } from '../src/discord/pacing.ts';
import { REVIEWS_PER_MESSAGE } from '../src/discord/review-message.ts';
import { percentile } from '../test/surge-scenario.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '2' },
    limit: { type: 'string', default: '5' },
    'window-s': { type: 'string', default: '5' },
    rates: { type: 'string', default: '0.2,0.5,0.8,1,1.5,2,3' },
  },
});
const limit = Number(values.limit);
const windowMs = Number(values['window-s']) * 1000;
const durationMs = Number(values.hours) * 3_600_000;

/** A fixed seed per rate: both ways see the same arrivals. */
function arrivals(perSecond: number, seed: number): number[] {
  const random = createRandom(seed);
  const at: number[] = [];
  for (let t = 0; t < durationMs; ) {
    t += (-Math.log(1 - random.next()) / perSecond) * 1000;
    at.push(t);
  }
  return at;
}

/** Waits (ms) of each review and messages sent, one way of deciding when to send. */
function run(arrived: readonly number[], paced: boolean) {
  const pacing = createChannelPacing();
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  const waits: number[] = [];
  const queue: number[] = [];
  let messages = 0;
  let next = 0;
  let now = 0;
  while (next < arrived.length || queue.length > 0) {
    while (next < arrived.length && (arrived[next] as number) <= now) queue.push(arrived[next++] as number);
    if (queue.length === 0) {
      now = arrived[next] as number;
      continue;
    }
    if (now >= windowStart + windowMs) {
      windowStart = now;
      used = 0;
    }
    const bucketWait = used < limit ? 0 : windowStart + windowMs - now;
    const wait = paced ? Math.max(bucketWait, pacing.take('c', now)) : bucketWait;
    if (wait > 0) {
      now = Math.min(now + wait, arrived[next] ?? Number.POSITIVE_INFINITY);
      continue;
    }
    used++;
    messages++;
    for (const at of queue.splice(0, REVIEWS_PER_MESSAGE)) waits.push(now - at);
    // Discord's answer: the window's limit, what is left, and when it resets.
    const headers = new Map([
      ['x-ratelimit-limit', String(limit)],
      ['x-ratelimit-remaining', String(limit - used)],
      ['x-ratelimit-reset-after', ((windowStart + windowMs - now) / 1000).toFixed(3)],
    ]);
    pacing.observe('c', { get: (name) => headers.get(name) ?? null }, now);
  }
  return { p95: percentile(waits, 95) ?? 0, max: Math.max(...waits), messages };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  `pacing simulation: ${values.hours} h of Poisson arrivals per rate; ${limit} messages per ${values['window-s']} s; ${REVIEWS_PER_MESSAGE} reviews a message`,
);
for (const [i, rate] of values.rates.split(',').map(Number).entries()) {
  const arrived = arrivals(rate, 7 + i);
  const asTheyCome = run(arrived, false);
  const paced = run(arrived, true);
  console.log(
    `  ${rate}/s (${arrived.length} reviews): paced p95 ${s(paced.p95)} max ${s(paced.max)} ${paced.messages} messages; as they come p95 ${s(asTheyCome.p95)} max ${s(asTheyCome.max)} ${asTheyCome.messages} messages; p95 ratio ${asTheyCome.p95 === 0 ? 'n/a' : (paced.p95 / asTheyCome.p95).toFixed(2)}`,
  );
}
