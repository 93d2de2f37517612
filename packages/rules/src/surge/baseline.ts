import type { Intent } from '../config.ts';

/**
 * The usual traffic of a watch and intent, learned from the matches themselves: hourly counts of the
 * matches that were not part of a surge, kept for the baseline's weeks. Pure data and functions: the
 * detector owns one, the worker may build one from stored counts (`baselineFrom`).
 */

export const HOUR_MS = 3_600_000;
export const HOURS_PER_WEEK = 168;
/** Hours of recent traffic averaged when there is no past week to compare with (or it was quieter). */
export const RECENT_HOURS = 24;

/** Hourly counts of one watch and intent: hour number (ms since epoch / 1 h) → matches. */
export type HourlyCounts = Map<number, number>;

/** Hourly counts per group ("watchId intent"), and since when traffic was watched. */
export interface Baseline {
  readonly groups: Map<string, HourlyCounts>;
  /** The first hour the counts cover: earlier hours are unknown, not quiet. */
  observedFromHour: number;
  /** When watching began (ms since epoch), if known: what a detector's first hour is measured from. */
  readonly observedSince?: number;
}

export const groupKey = (watchId: string, intent: Intent): string => `${watchId}\u0000${intent}`;
export const hourOf = (at: number): number => Math.floor(at / HOUR_MS);
/** The first whole hour from `at`: a partly watched hour would read as a quiet one. */
export const firstFullHour = (at: number): number => Math.ceil(at / HOUR_MS);

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1
    ? (values[mid] as number)
    : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
}

/**
 * The usual number of matches per hour for a group at `hour`: the larger of the median of the same
 * hour of the week over the past `weeks` observed weeks and the mean of the last 24 observed hours
 * (so a first week learns from the day before, and a growing brand from its recent days). 0 when
 * nothing was observed before `hour`.
 */
export function usualPerHour(baseline: Baseline, key: string, hour: number, weeks: number): number {
  const counts = baseline.groups.get(key);
  if (counts === undefined) return 0;
  const sameHours: number[] = [];
  for (let k = 1; k <= weeks; k++) {
    const past = hour - k * HOURS_PER_WEEK;
    if (past < baseline.observedFromHour) break;
    sameHours.push(counts.get(past) ?? 0);
  }
  const weekly = sameHours.length > 0 ? median(sameHours) : 0;
  const recentHours = Math.min(RECENT_HOURS, hour - baseline.observedFromHour);
  let recent = 0;
  if (recentHours > 0) {
    let sum = 0;
    for (let h = hour - recentHours; h < hour; h++) sum += counts.get(h) ?? 0;
    recent = sum / recentHours;
  }
  return Math.max(weekly, recent);
}

/** Forgets hours older than the baseline can use; drops groups left empty. */
export function pruneBaseline(baseline: Baseline, hour: number, weeks: number): void {
  const oldest = hour - weeks * HOURS_PER_WEEK - 1;
  for (const [key, counts] of baseline.groups) {
    for (const h of counts.keys()) if (h < oldest) counts.delete(h);
    if (counts.size === 0) baseline.groups.delete(key);
  }
}

/** One row of stored counts: matches of a watch and intent in the hour starting at `hourStart`. */
export interface HourlyCount {
  readonly watchId: string;
  readonly intent: Intent;
  /** Start of the hour (ms since epoch, or anything `Date` accepts); any time inside the hour works too. */
  readonly hourStart: number | string | Date;
  readonly count: number;
}

/**
 * A baseline from hourly counts (for example a `GROUP BY watch, intent, hour` over stored matches that
 * did not join a surge), observed since `since`. Pure; rows for the same group and hour add up.
 * Throws on a row with a bad time or count, naming the row.
 */
export function baselineFrom(rows: readonly HourlyCount[], since: number | string | Date): Baseline {
  const from = new Date(since).getTime();
  if (!Number.isFinite(from)) throw new Error(`baselineFrom: since is not a time: ${String(since)}`);
  const groups = new Map<string, HourlyCounts>();
  rows.forEach((row, i) => {
    const at = new Date(row.hourStart).getTime();
    if (!Number.isFinite(at)) throw new Error(`baselineFrom: rows[${i}].hourStart is not a time`);
    if (!(Number.isInteger(row.count) && row.count >= 0))
      throw new Error(`baselineFrom: rows[${i}].count must be a whole number >= 0`);
    const key = groupKey(row.watchId, row.intent);
    let counts = groups.get(key);
    if (counts === undefined) {
      counts = new Map();
      groups.set(key, counts);
    }
    counts.set(hourOf(at), (counts.get(hourOf(at)) ?? 0) + row.count);
  });
  return { groups, observedFromHour: firstFullHour(from), observedSince: from };
}
