import type { DashboardView, StatsView } from './shared.ts';

/*
 * The dashboard's figures are aggregates over every match of the period: with 100,000 stored matches
 * one computation takes PostgreSQL 0.2–0.3 s, and a few people keeping the dashboard open would saturate
 * the database (see the README's measured figures). The figures move slowly, so the console keeps them
 * for a short while per (days, time zone) and says how old they are ("as of 10:42"):
 *
 *   age < ttl             → served as is;
 *   ttl ≤ age < maxStale  → served as is while one background computation refreshes the entry;
 *   age ≥ maxStale, none  → computed before answering (requests arriving meanwhile share it);
 *   refresh asked for     → computed before answering unless younger than minRefreshAge.
 *
 * At most one computation per key runs at a time, and the cache holds at most `maxEntries` keys (the
 * least recently used goes). `clear()` (after a decision made in this console) drops everything and
 * keeps results of computations that started before it from being stored. A ttl of 0 turns it off.
 */

export interface DashboardQuery {
  readonly days: number;
  readonly timeZone: string;
}

export interface DashboardCacheOptions {
  readonly source: StatsView;
  readonly now: () => Date;
  /** How long figures count as fresh; 0 computes on every request. */
  readonly ttlMs: number;
  /** Up to this age a stale entry is still served while it is refreshed (default 10 × ttl). */
  readonly maxStaleMs?: number;
  /** An explicit refresh recomputes only entries at least this old (default 5 s). */
  readonly minRefreshAgeMs?: number;
  /** Keys kept (default 32). */
  readonly maxEntries?: number;
  /** A background refresh failed (the old figures stay until they are too old to serve). */
  readonly onError?: (error: unknown, query: DashboardQuery) => void;
}

export interface DashboardCache {
  get(query: DashboardQuery, options?: { readonly refresh?: boolean }): Promise<DashboardView>;
  /** Forgets every entry (the next request computes). */
  clear(): void;
  /** Keys held now (for tests and metrics). */
  readonly size: number;
}

interface Entry {
  /** When the stored view was computed (its `now`), in ms. */
  at: number;
  view: DashboardView | undefined;
  /** The computation under way for this key, if any. */
  pending: Promise<DashboardView> | undefined;
}

export function createDashboardCache(options: DashboardCacheOptions): DashboardCache {
  const { source, now, ttlMs } = options;
  const maxStaleMs = options.maxStaleMs ?? ttlMs * 10;
  const minRefreshAgeMs = options.minRefreshAgeMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 32;
  if (!(ttlMs >= 0) || !(maxStaleMs >= ttlMs) || !(maxEntries >= 1))
    throw new RangeError('dashboard cache: needs ttlMs ≥ 0, maxStaleMs ≥ ttlMs and maxEntries ≥ 1');

  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let generation = 0;

  const compute = (query: DashboardQuery, at: Date) =>
    source.dashboard({ now: at, days: query.days, timeZone: query.timeZone });

  /** Starts the one computation of `key` (or returns the one under way). */
  const start = (key: string, query: DashboardQuery): Promise<DashboardView> => {
    let entry = entries.get(key);
    if (entry?.pending) return entry.pending;
    if (entry === undefined) {
      entry = { at: 0, view: undefined, pending: undefined };
      remember(key, entry);
    }
    const owner = entry;
    const started = generation;
    const at = now();
    const pending = compute(query, at).then(
      (view) => {
        if (owner.pending === pending) owner.pending = undefined;
        if (started === generation && entries.get(key) === owner) {
          owner.view = view;
          owner.at = at.getTime();
        }
        return view;
      },
      (error: unknown) => {
        if (owner.pending === pending) owner.pending = undefined;
        if (owner.view === undefined && entries.get(key) === owner) entries.delete(key);
        throw error;
      },
    );
    owner.pending = pending;
    return pending;
  };

  const remember = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  };

  return {
    async get(query, getOptions = {}) {
      if (ttlMs === 0) return compute(query, now());
      const key = `${query.days}|${query.timeZone}`;
      const entry = entries.get(key);
      if (entry?.view === undefined) return start(key, query);
      remember(key, entry);
      const age = now().getTime() - entry.at;
      if (getOptions.refresh === true && age >= minRefreshAgeMs) return start(key, query);
      if (age < ttlMs) return entry.view;
      if (age < maxStaleMs) {
        if (entry.pending === undefined)
          start(key, query).catch((error: unknown) => options.onError?.(error, query));
        return entry.view;
      }
      return start(key, query);
    },
    clear() {
      generation += 1;
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
