import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, decideAll, engineFor, makePost, type TestDb } from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';

let t: TestDb;
const engine = engineFor({ watches: [{ id: 'brand', query: 'ブクログ' }], suppression: { maxAgeHours: 0 } });
const T0 = new Date('2026-11-24T00:00:00.000Z');
let matches: MatchRecord[] = [];

const summary = (count: number, status: 'open' | 'closed' = 'open') => ({
  id: 'surge:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  watchId: 'brand',
  status,
  detectedAt: T0.getTime() + 60_000,
  firstAt: T0.getTime(),
  lastAt: T0.getTime() + count * 1_000,
  count,
  intents: { trouble: count },
  platforms: { x: count },
  examples: [{ id: 'm1', text: 'ブクログ 落ちてる' }],
  perMinute: [{ minute: T0.getTime(), count }],
});

beforeAll(async () => {
  t = await createTestDb('surges');
  const posts = [0, 1, 2, 3].map((n) => makePost(String(2000 + n), `ブクログ 落ちてる ${n}`));
  matches = (await t.repos.ingest.storeBatch(null, decideAll(engine, posts, T0), undefined, T0)).newMatches;
});
afterAll(async () => {
  await t?.close();
});

describe('surges repository', () => {
  it('records a surge and its members once; members leave the sweeper’s list', async () => {
    const [a, b, c] = matches;
    await t.repos.reviews.claimMessage(a?.id ?? '', 'chan', 'n1');
    await t.repos.reviews.setMessageId(a?.id ?? '', 'msg1');
    const first = await t.repos.surges.record(summary(2), [a?.id ?? '', b?.id ?? '']);
    expect(first.joinedWithMessage).toEqual([a?.id]);
    // Recorded again (a rebuild): nobody joins twice.
    expect(
      (await t.repos.surges.record(summary(3), [a?.id ?? '', b?.id ?? '', c?.id ?? ''])).joinedWithMessage,
    ).toEqual([]);
    const surge = await t.repos.surges.get(summary(3).id);
    expect(surge?.count).toBe(3);
    expect((await t.repos.surges.members(summary(3).id)).map((m) => m.id).sort()).toEqual(
      [a?.id, b?.id, c?.id].sort(),
    );
    const waiting = await t.repos.matches.withoutReviewMessage(new Date(T0.getTime() + 3_600_000), 100);
    expect(waiting).toEqual([matches[3]?.id]);
    expect((await t.repos.matches.get(b?.id ?? ''))?.surgeId).toBe(summary(3).id);
  });

  it('keeps a surge a reviewer closed closed, whatever the detector records later', async () => {
    await t.repos.desk.transaction((tx) => tx.closeSurge(summary(3).id, new Date()));
    await t.repos.surges.record(summary(4, 'open'), []);
    const surge = await t.repos.surges.get(summary(4).id);
    expect(surge?.status).toBe('closed');
    expect(surge?.closedBy).toBe('reviewer');
    expect(surge?.count).toBe(4);
  });

  it('marks pending and judged matches; the sweeper leaves pending ones to the detector', async () => {
    const last = matches[3]?.id ?? '';
    await t.repos.surges.markPending([last]);
    const later = new Date(T0.getTime() + 3_600_000);
    expect(await t.repos.matches.withoutReviewMessage(later, 100)).toEqual([]);
    expect(await t.repos.surges.pending(later, 100)).toEqual([last]);
    await t.repos.surges.markJudged([last]);
    expect(await t.repos.matches.withoutReviewMessage(later, 100)).toEqual([last]);
  });

  it('counts matches outside surges per watch, intent and hour (the baseline) and lists surges of a period', async () => {
    const counts = await t.repos.surges.hourlyCounts(new Date(0));
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(1);
    const period = await t.repos.surges.inPeriod(T0, new Date(T0.getTime() + 3_600_000));
    expect(period.map((s) => [s.count, s.handling])).toEqual([[4, []]]);
  });
});
