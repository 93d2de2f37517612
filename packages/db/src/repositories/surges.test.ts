import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, decideAll, engineFor, makePost, type TestDb, WEB_ACTOR } from '../../test/support.ts';
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
    // b's message is on its way (its place claimed, no message id yet): not counted as having one.
    await t.repos.reviews.claimMessage(b?.id ?? '', 'chan', 'n2');
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

  it("marks matches most likely a flood's, not a surge's members", async () => {
    const [a, , , d] = matches;
    await t.repos.surges.markLikely([a?.id ?? '', d?.id ?? '', 'not-an-id']);
    const { rows } = await t.pool.query<{ id: string; surge_likely: boolean }>(
      'SELECT id, surge_likely FROM matches WHERE id = ANY($1)',
      [[a?.id, d?.id]],
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r.surge_likely]))).toEqual({
      [a?.id ?? '']: false,
      [d?.id ?? '']: true,
    });
    await t.pool.query('UPDATE matches SET surge_likely = false WHERE id = $1', [d?.id]);
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

  it('holds back review messages of matches outside surges, the later time winning', async () => {
    const [member, , , last] = matches;
    const at = (s: number) => new Date(T0.getTime() + s * 1_000);
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toBeNull();
    // A surge's member needs no wait (its review is the surge's); an unknown id is left out.
    const held = await t.repos.surges.holdBack([
      { id: last?.id ?? '', until: at(15) },
      { id: member?.id ?? '', until: at(15) },
      { id: 'not-a-uuid', until: at(15) },
    ]);
    expect(held).toEqual([last?.id]);
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toEqual(at(15));
    expect(await t.repos.surges.heldUntil(member?.id ?? '')).toBeNull();
    await t.repos.surges.holdBack([{ id: last?.id ?? '', until: at(5) }]);
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toEqual(at(15));
    await t.repos.surges.holdBack([{ id: last?.id ?? '', until: at(20) }]);
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toEqual(at(20));
    expect(await t.repos.surges.holdBack([])).toEqual([]);
    // Released: the hold ends then, and stays on record (it was held for a surge); one never held
    // stays so.
    await t.repos.surges.releaseHold([last?.id ?? '', member?.id ?? '', 'not-a-uuid'], at(12));
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toEqual(at(12));
    expect(await t.repos.surges.heldUntil(member?.id ?? '')).toBeNull();
    // A release after the hold has ended does not move it.
    await t.repos.surges.releaseHold([last?.id ?? ''], at(30));
    expect(await t.repos.surges.heldUntil(last?.id ?? '')).toEqual(at(12));
  });

  it('counts matches outside surges per watch, intent and hour (the baseline) and lists surges of a period', async () => {
    const counts = await t.repos.surges.hourlyCounts(new Date(0));
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(1);
    const period = await t.repos.surges.inPeriod(T0, new Date(T0.getTime() + 3_600_000));
    expect(period.map((s) => [s.count, s.handling])).toEqual([[4, []]]);
  });
});

describe('surges of a period, with how they were handled', () => {
  const SECOND = 'surge:bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';
  const OLD = 'surge:cccccccc-dddd-4eee-8fff-000000000000';
  const T1 = new Date(T0.getTime() + 2 * 3_600_000);
  let members: MatchRecord[] = [];

  beforeAll(async () => {
    const posts = [0, 1, 2, 3, 4].map((n) =>
      makePost(String(3000 + n), `ブクログ 重い ${n}`, n === 4 ? { platform: 'mastodon' } : {}),
    );
    members = (await t.repos.ingest.storeBatch(null, decideAll(engine, posts, T1), undefined, T1)).newMatches;
    await t.repos.surges.record(
      {
        ...summary(5),
        id: SECOND,
        // Began before the period asked for below, ended inside it.
        firstAt: T1.getTime() - 30 * 60_000,
        lastAt: T1.getTime(),
        detectedAt: T1.getTime() - 20 * 60_000,
        platforms: { x: 4, mastodon: 1 },
      },
      members.map((m) => m.id),
    );
    // Two dismissed, one replied, one escalated, one still waiting; announced on X (sent) and Mastodon (failed).
    const [m0, m1, m2, m3] = members;
    await t.repos.matches.setStatus(m0?.id ?? '', 'dismissed', T1);
    await t.repos.matches.setStatus(m1?.id ?? '', 'dismissed', T1);
    await t.repos.matches.setStatus(m2?.id ?? '', 'replied', T1);
    await t.repos.matches.setStatus(m3?.id ?? '', 'escalated', T1);
    const announced = await t.repos.desk.transaction(async (tx) => {
      const made = [];
      for (const [accountId, platform] of [
        ['aaaaaaaa-0000-4000-8000-000000000001', 'x'],
        ['aaaaaaaa-0000-4000-8000-000000000002', 'mastodon'],
      ] as const) {
        made.push(
          await tx.insertAnnouncement(
            SECOND,
            {
              accountId,
              platform,
              text: '障害のお知らせ',
              idempotencyKey: `k-${platform}`,
              createdBy: WEB_ACTOR,
            },
            T1,
          ),
        );
      }
      await tx.markSurgeHandled(SECOND, 'announced', T1);
      await tx.markSurgeHandled(SECOND, 'dismissed', T1);
      return made;
    });
    await t.repos.surges.markAnnouncementSent(
      announced[0]?.id ?? '',
      { platformPostId: '9', url: 'https://x.com/brand/status/9' },
      T1,
    );
    await t.repos.surges.markAnnouncementFailed(announced[1]?.id ?? '', 'refused');
    // A surge entirely before the period: left out.
    await t.repos.surges.record(
      {
        ...summary(20),
        id: OLD,
        firstAt: T0.getTime() - 86_400_000,
        detectedAt: T0.getTime() - 86_300_000,
        lastAt: T0.getTime() - 86_000_000,
      },
      [],
    );
  });

  it('gives each surge’s size, platforms and handling — members by status and announcements — in one statement', async () => {
    const from = new Date(T1.getTime() - 10 * 60_000);
    const period = await t.repos.surges.inPeriod(from, new Date(T1.getTime() + 60_000));
    expect(period.map((s) => s.id)).toEqual([SECOND]);
    const [surge] = period;
    expect(surge).toMatchObject({
      count: 5,
      status: 'open',
      watchId: 'brand',
      platforms: { x: 4, mastodon: 1 },
      intents: { trouble: 5 },
      handling: ['announced', 'dismissed'],
      example: 'ブクログ 落ちてる',
      firstAt: new Date(T1.getTime() - 30 * 60_000),
      lastAt: T1,
      closedAt: null,
      closedBy: null,
    });
    expect(surge?.handled.members).toEqual({
      total: 5,
      waiting: 1,
      replied: 1,
      dismissed: 2,
      escalated: 1,
      deleted: 0,
    });
    expect(surge?.handled.announcements).toEqual([
      { platform: 'mastodon', state: 'failed', url: null },
      { platform: 'x', state: 'sent', url: 'https://x.com/brand/status/9' },
    ]);
  });

  it('lists newest first within a limit, a closed surge with its members, and nothing for a quiet period', async () => {
    const wide = await t.repos.surges.inPeriod(new Date(T0.getTime() - 2 * 86_400_000), T1);
    expect(wide.map((s) => s.id)).toEqual([SECOND, summary(1).id, OLD]);
    const first = wide.find((s) => s.id === summary(1).id);
    expect(first).toMatchObject({ status: 'closed', closedBy: 'reviewer' });
    expect(first?.handled.members).toMatchObject({ total: 3, waiting: 3 });
    expect(first?.handled.announcements).toEqual([]);
    expect(
      (await t.repos.surges.inPeriod(new Date(T0.getTime() - 2 * 86_400_000), T1, 1)).map((s) => s.id),
    ).toEqual([SECOND]);
    expect(
      await t.repos.surges.inPeriod(new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z')),
    ).toEqual([]);
    await expect(t.repos.surges.inPeriod(T0, T1, 0)).rejects.toThrow(/limit/u);
  });

  it('gives the sizes of a page’s surges, and filters matches in and outside surges', async () => {
    const sizes = await t.repos.surges.sizes([SECOND, summary(1).id, 'surge:unknown', SECOND]);
    expect(Object.fromEntries(sizes)).toEqual({
      [SECOND]: { count: 5, status: 'open' },
      [summary(1).id]: { count: 4, status: 'closed' },
    });
    const inSurges = await t.repos.matches.list({ inSurge: true }, { limit: 100 });
    expect(inSurges.map((m) => m.id).sort()).toEqual(
      [...members.map((m) => m.id), matches[0]?.id, matches[1]?.id, matches[2]?.id].sort(),
    );
    expect((await t.repos.matches.list({ inSurge: false }, { limit: 100 })).map((m) => m.id)).toEqual([
      matches[3]?.id,
    ]);
  });
});
