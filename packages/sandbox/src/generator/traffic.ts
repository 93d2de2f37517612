import {
  createPostGenerator,
  type GeneratedPost,
  type OutageBurstOptions,
  type PostGeneratorOptions,
} from './generator.ts';
import { createRandom } from './random.ts';

/**
 * Hours of traffic at once, by timestamps rather than in real time: a day of a brand's posts takes
 * milliseconds of waiting-free generation, for tests and benchmarks that need "a normal day".
 */

/**
 * Relative activity per hour of the local day (0–23), mean 1: quiet before dawn, a lunch peak and the
 * evening peak, the shape of Japanese social media traffic.
 */
export const DAILY_ACTIVITY: readonly number[] = (() => {
  const raw = [
    0.9, 0.6, 0.4, 0.25, 0.2, 0.25, 0.45, 0.75, 0.95, 0.95, 0.95, 1.05, 1.35, 1.15, 0.95, 0.95, 1.0, 1.05,
    1.15, 1.3, 1.45, 1.6, 1.55, 1.25,
  ];
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  return raw.map((v) => v / mean);
})();

export interface TrafficOptions extends Omit<PostGeneratorOptions, 'now'> {
  /** Start of the period. */
  readonly start: Date;
  /** Length of the period in hours (may be fractional). */
  readonly hours: number;
  /** Average posts per hour over a day; each hour follows `DAILY_ACTIVITY`. */
  readonly perHour: number;
  /** Offset of the audience's local time from UTC in hours, default 9 (Japan). */
  readonly utcOffsetHours?: number;
  /** Outage bursts mixed into the traffic (same generator: refs stay unique). */
  readonly outages?: readonly OutageBurstOptions[];
}

/**
 * Posts over `hours` from `start`, their `createdAt` spaced as a Poisson process whose rate follows
 * the time of day: realistic gaps and clumps, same seed same posts. Sorted by time, `outages` mixed in.
 */
export function generateTraffic(options: TrafficOptions): GeneratedPost[] {
  const { start, hours, perHour } = options;
  const from = start.getTime();
  if (!Number.isFinite(from)) throw new Error('generateTraffic: start is not a valid date');
  if (!(Number.isFinite(hours) && hours >= 0)) throw new Error('generateTraffic: hours must be >= 0');
  if (!(Number.isFinite(perHour) && perHour > 0))
    throw new Error('generateTraffic: perHour must be positive');
  const offset = (options.utcOffsetHours ?? 9) * 3_600_000;
  // The gaps have their own random stream: the texts are the same whatever the rate.
  const timing = createRandom(((options.seed ?? 1) * 2654435761) >>> 0);
  let clock = from;
  const generator = createPostGenerator({ ...options, now: () => new Date(clock) });
  const end = from + hours * 3_600_000;
  const posts: GeneratedPost[] = [];
  for (;;) {
    const hourOfDay = Math.floor((((clock + offset) % 86_400_000) + 86_400_000) / 3_600_000) % 24;
    const rate = (perHour * (DAILY_ACTIVITY[hourOfDay] as number)) / 3_600_000; // posts per ms
    // Exponential gap at the current hour's rate (the rate changes slowly next to the gaps).
    clock += -Math.log(1 - timing.next()) / rate;
    if (clock >= end) break;
    posts.push(generator.next());
  }
  const outages = (options.outages ?? []).map((outage) => generator.outageBurst(outage));
  return outages.length === 0 ? posts : mergeByTime(posts, ...outages);
}

/** Several streams as one, in time order (stable: equal times keep the order of `streams`). */
export function mergeByTime(...streams: readonly (readonly GeneratedPost[])[]): GeneratedPost[] {
  return streams
    .flatMap((stream, s) => stream.map((post, i) => ({ post, s, i })))
    .sort((a, b) => a.post.createdAt.getTime() - b.post.createdAt.getTime() || a.s - b.s || a.i - b.i)
    .map((x) => x.post);
}
