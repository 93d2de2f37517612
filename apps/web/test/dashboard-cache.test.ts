import { describe, expect, it } from 'vitest';
import { createDashboardCache, type DashboardQuery } from '../src/routes/inbox/dashboard-cache.ts';
import type { DashboardView, StatsView } from '../src/routes/inbox/shared.ts';

/*
 * The cache in front of the dashboard's aggregates, against a source whose computations the test
 * finishes by hand (so "under way" is a state the test controls) and a clock it moves.
 */

const SECOND = 1_000;

function viewAt(now: Date, days: number, timeZone: string, matches: number): DashboardView {
  return {
    period: { from: new Date(now.getTime() - days * 86_400_000), to: now, days, timeZone },
    daily: [],
    totals: {
      matches,
      suppressed: 0,
      unsuppressed: matches,
      responded: 0,
      responseRate: null,
      medianFirstResponseSeconds: null,
      escalated: 0,
      escalationDecisions: 0,
      replies: 0,
    },
    replies: [],
    suppressedByReason: [],
    surges: {
      matches: 0,
      responded: 0,
      count: 0,
      outside: {
        unsuppressed: matches,
        responded: 0,
        responseRate: null,
        medianFirstResponseSeconds: null,
      },
      daily: [],
      list: [],
      more: false,
    },
  };
}

/** A stats source that counts its computations and lets the test resolve or fail each one. */
function controlledSource() {
  let matches = 0;
  const calls: Array<{
    query: { now: Date; days: number; timeZone?: string | undefined };
    finish: () => void;
    fail: (error: Error) => void;
  }> = [];
  const source: StatsView = {
    dashboard(query) {
      return new Promise<DashboardView>((resolve, reject) => {
        calls.push({
          query,
          finish: () => resolve(viewAt(query.now, query.days, query.timeZone ?? 'UTC', matches)),
          fail: reject,
        });
      });
    },
  };
  return {
    source,
    calls,
    setMatches(n: number) {
      matches = n;
    },
    /** Finishes every computation under way. */
    finishAll() {
      for (const call of calls.splice(0)) call.finish();
    },
  };
}

function clock(start = Date.parse('2026-11-24T09:00:00Z')) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

const WEEK: DashboardQuery = { days: 7, timeZone: 'Asia/Tokyo' };
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A cache (ttl 60 s unless told) whose WEEK entry holds `matches` = 1, computed at the clock's start. */
async function warmed(options: Partial<Parameters<typeof createDashboardCache>[0]> = {}) {
  const s = controlledSource();
  const c = clock();
  const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 60 * SECOND, ...options });
  s.setMatches(1);
  const first = cache.get(WEEK);
  s.finishAll();
  return { s, c, cache, first: await first };
}

describe('dashboard cache', () => {
  it('computes once for requests arriving together, then serves the stored figures while fresh', async () => {
    const s = controlledSource();
    const c = clock();
    const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 60 * SECOND });
    s.setMatches(5);
    const first = [cache.get(WEEK), cache.get(WEEK), cache.get(WEEK)];
    await settle();
    expect(s.calls).toHaveLength(1);
    s.finishAll();
    const views = await Promise.all(first);
    expect(views.map((v) => v.totals.matches)).toEqual([5, 5, 5]);

    s.setMatches(6);
    c.advance(59 * SECOND);
    expect((await cache.get(WEEK)).totals.matches).toBe(5);
    expect(s.calls).toHaveLength(0);
  });

  it('serves stale figures at once and refreshes them in the background, one computation at a time', async () => {
    const { s, c, cache, first: before } = await warmed();

    s.setMatches(2);
    c.advance(61 * SECOND);
    const stale = await Promise.all([cache.get(WEEK), cache.get(WEEK)]);
    expect(stale.map((v) => v.totals.matches)).toEqual([1, 1]);
    expect(stale[0]?.period.to).toEqual(before.period.to);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]?.query.now).toEqual(c.now());
    s.finishAll();
    await settle();

    const after = await cache.get(WEEK);
    expect(after.totals.matches).toBe(2);
    expect(after.period.to).toEqual(c.now());
    expect(s.calls).toHaveLength(0);
  });

  it('computes before answering when the stored figures are too old to show', async () => {
    const { s, c, cache } = await warmed({ maxStaleMs: 300 * SECOND });

    s.setMatches(9);
    c.advance(300 * SECOND);
    let answered = false;
    const next = cache.get(WEEK).then((v) => {
      answered = true;
      return v;
    });
    await settle();
    expect(answered).toBe(false);
    s.finishAll();
    expect((await next).totals.matches).toBe(9);
  });

  it('keeps one entry per period and time zone', async () => {
    const s = controlledSource();
    const c = clock();
    const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 60 * SECOND });
    const views = [
      cache.get(WEEK),
      cache.get({ days: 7, timeZone: 'UTC' }),
      cache.get({ days: 30, timeZone: 'Asia/Tokyo' }),
    ];
    await settle();
    expect(s.calls.map((call) => [call.query.days, call.query.timeZone])).toEqual([
      [7, 'Asia/Tokyo'],
      [7, 'UTC'],
      [30, 'Asia/Tokyo'],
    ]);
    s.finishAll();
    expect((await Promise.all(views)).map((v) => [v.period.days, v.period.timeZone])).toEqual([
      [7, 'Asia/Tokyo'],
      [7, 'UTC'],
      [30, 'Asia/Tokyo'],
    ]);
    expect(cache.size).toBe(3);
  });

  it('forgets the least recently used key beyond its capacity', async () => {
    const s = controlledSource();
    const c = clock();
    const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 60 * SECOND, maxEntries: 2 });
    const load = async (days: number) => {
      const view = cache.get({ days, timeZone: 'UTC' });
      await settle();
      s.finishAll();
      return view;
    };
    await load(1);
    await load(2);
    await cache.get({ days: 1, timeZone: 'UTC' }); // 1 is now the most recently used
    await load(3); // evicts 2
    expect(cache.size).toBe(2);
    expect(s.calls).toHaveLength(0);
    await cache.get({ days: 1, timeZone: 'UTC' });
    expect(s.calls).toHaveLength(0);
    const again = cache.get({ days: 2, timeZone: 'UTC' });
    await settle();
    expect(s.calls).toHaveLength(1);
    s.finishAll();
    await again;
  });

  it('recomputes on an explicit refresh, but not more often than every few seconds', async () => {
    const { s, c, cache } = await warmed({ minRefreshAgeMs: 5 * SECOND });

    s.setMatches(2);
    c.advance(2 * SECOND);
    expect((await cache.get(WEEK, { refresh: true })).totals.matches).toBe(1);
    expect(s.calls).toHaveLength(0);

    c.advance(4 * SECOND);
    const refreshed = cache.get(WEEK, { refresh: true });
    await settle();
    expect(s.calls).toHaveLength(1);
    s.finishAll();
    expect((await refreshed).totals.matches).toBe(2);
    expect((await cache.get(WEEK)).totals.matches).toBe(2);
  });

  it('after clear() computes again and drops what a computation started before it found', async () => {
    const s = controlledSource();
    const c = clock();
    const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 60 * SECOND });
    s.setMatches(1);
    const early = cache.get(WEEK);
    await settle();
    cache.clear(); // e.g. a reviewer replied while the figures were being computed
    s.setMatches(2);
    const late = cache.get(WEEK);
    await settle();
    expect(s.calls).toHaveLength(2);
    const [old, current] = s.calls.splice(0);
    current?.finish();
    expect((await late).totals.matches).toBe(2);
    s.setMatches(1);
    old?.finish();
    expect((await early).totals.matches).toBe(1); // its own waiters still get an answer
    expect((await cache.get(WEEK)).totals.matches).toBe(2); // but it did not replace the newer figures
    expect(s.calls).toHaveLength(0);
  });

  it('passes a failure to the waiting requests and keeps nothing; a failed background refresh keeps the old figures', async () => {
    const s = controlledSource();
    const c = clock();
    const failures: unknown[] = [];
    const cache = createDashboardCache({
      source: s.source,
      now: c.now,
      ttlMs: 60 * SECOND,
      onError: (error) => failures.push(error),
    });
    const first = cache.get(WEEK);
    await settle();
    s.calls.splice(0)[0]?.fail(new Error('database down'));
    await expect(first).rejects.toThrow('database down');
    expect(cache.size).toBe(0);

    s.setMatches(3);
    const second = cache.get(WEEK);
    await settle();
    s.finishAll();
    expect((await second).totals.matches).toBe(3);

    c.advance(61 * SECOND);
    expect((await cache.get(WEEK)).totals.matches).toBe(3);
    s.calls.splice(0)[0]?.fail(new Error('database down again'));
    await settle();
    expect(failures).toEqual([new Error('database down again')]);
    expect((await cache.get(WEEK)).totals.matches).toBe(3); // still served, and refreshed again
    expect(s.calls).toHaveLength(1);
    s.finishAll();
  });

  it('computes on every request with a ttl of 0', async () => {
    const s = controlledSource();
    const c = clock();
    const cache = createDashboardCache({ source: s.source, now: c.now, ttlMs: 0 });
    const views = [cache.get(WEEK), cache.get(WEEK)];
    await settle();
    expect(s.calls).toHaveLength(2);
    s.finishAll();
    await Promise.all(views);
    expect(cache.size).toBe(0);
  });

  it('refuses settings that make no sense', () => {
    const s = controlledSource();
    const c = clock();
    expect(() => createDashboardCache({ source: s.source, now: c.now, ttlMs: -1 })).toThrow(RangeError);
    expect(() =>
      createDashboardCache({ source: s.source, now: c.now, ttlMs: 60_000, maxStaleMs: 1_000 }),
    ).toThrow(RangeError);
    expect(() => createDashboardCache({ source: s.source, now: c.now, ttlMs: 1, maxEntries: 0 })).toThrow(
      RangeError,
    );
  });
});
