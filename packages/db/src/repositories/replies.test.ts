import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DISCORD_ACTOR, matchMaker, NOW, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';

let t: TestDb;
let accountId: string;
let newMatch: () => Promise<MatchRecord>;
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

beforeAll(async () => {
  t = await createTestDb('replies');
  ({ accountId, newMatch } = await matchMaker(t, '9'));
});
afterAll(async () => {
  await t?.drop();
});

const count = async (sql: string, params: unknown[] = []) =>
  (await t.pool.query<{ n: number }>(sql, params)).rows[0]?.n;

const input = (key: string) => ({
  accountId,
  text: 'ありがとうございます！',
  idempotencyKey: key,
  actor: DISCORD_ACTOR,
});

describe('replies: exactly once', () => {
  it('begin twice (even at once) makes one row; the second gets the first', async () => {
    const match = await newMatch();
    const results = await Promise.all([
      t.repos.replies.begin(match.id, input('key-a'), NOW),
      t.repos.replies.begin(match.id, input('key-b'), NOW),
      t.repos.replies.begin(match.id, input('key-c'), NOW),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.reply.id)).size).toBe(1);
    expect(results[0]?.reply).toMatchObject({
      matchId: match.id,
      accountId,
      state: 'pending',
      attempts: 0,
      createdBy: DISCORD_ACTOR,
      sentAt: null,
    });
    expect(await count('SELECT count(*)::int AS n FROM replies WHERE match_id = $1', [match.id])).toBe(1);
    expect(await t.repos.replies.forMatch(match.id)).toEqual(results.find((r) => r.created)?.reply);
  });

  it('refuses an idempotency key already used by another match', async () => {
    const a = await newMatch();
    const b = await newMatch();
    await t.repos.replies.begin(a.id, input('shared-key'), NOW);
    await expect(t.repos.replies.begin(b.id, input('shared-key'), NOW)).rejects.toThrow(/already used/u);
    expect(await t.repos.replies.forMatch(b.id)).toBeNull();
    await expect(
      t.repos.replies.begin('00000000-0000-4000-8000-000000000000', input('k-none'), NOW),
    ).rejects.toThrow(/does not exist/u);
    await expect(t.repos.replies.begin(b.id, { ...input('k-empty'), text: '  ' }, NOW)).rejects.toThrow(
      /text/u,
    );
  });

  it('markSent twice: one contact, one usage count, match replied', async () => {
    const match = await newMatch();
    const { reply } = await t.repos.replies.begin(match.id, input(`k-${match.id}`), NOW);
    const failed = await t.repos.replies.markFailed(reply.id, 'HTTP 503', later(1));
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, error: 'HTTP 503' });

    const sent = await Promise.all([
      t.repos.replies.markSent(
        reply.id,
        { platformReplyId: 'p1', url: 'https://x.com/i/status/p1' },
        later(2),
      ),
      t.repos.replies.markSent(
        reply.id,
        { platformReplyId: 'p1', url: 'https://x.com/i/status/p1' },
        later(3),
      ),
    ]);
    expect(sent[0]).toEqual(sent[1]);
    expect(sent[0]).toMatchObject({ state: 'sent', platformReplyId: 'p1', error: null, attempts: 1 });
    expect([later(2).getTime(), later(3).getTime()]).toContain(sent[0]?.sentAt?.getTime());
    expect(await t.repos.replies.markSent(reply.id, { platformReplyId: 'p2', url: null }, later(9))).toEqual(
      sent[0],
    );

    expect(await count('SELECT count(*)::int AS n FROM contacts WHERE match_id = $1', [match.id])).toBe(1);
    const history = await t.repos.ingest.contactHistory(
      [{ platform: 'x', authorId: match.post.author.id, handle: match.post.author.handle }],
      NOW,
    );
    expect(history).toEqual([
      {
        platform: 'x',
        authorId: match.post.author.id,
        handle: match.post.author.handle,
        at: sent[0]?.sentAt?.toISOString(),
        matchId: match.id,
      },
    ]);
    expect((await t.repos.sources.usage(accountId, NOW, NOW))[0]?.replies).toBe(1);
    expect(await t.repos.matches.get(match.id)).toMatchObject({
      status: 'replied',
      firstResponseAt: sent[0]?.sentAt,
    });

    // A late failure report does not undo the sent state.
    expect((await t.repos.replies.markFailed(reply.id, 'timeout', later(10))).state).toBe('sent');
  });

  it('manual path: pending → manual_pending → manual_done, contact once, audited', async () => {
    const match = await newMatch();
    const { reply } = await t.repos.replies.begin(match.id, input(`k-${match.id}`), NOW);
    const manualUrl = 'https://x.com/intent/post?in_reply_to=123&text=%E3%81%82';
    const pending = await t.repos.replies.markManualPending(reply.id, manualUrl, later(1));
    expect(pending).toMatchObject({ state: 'manual_pending', manualUrl });
    expect((await t.repos.matches.get(match.id))?.status).toBe('manual_pending');
    await expect(t.repos.replies.markManualPending(reply.id, 'javascript:alert(1)')).rejects.toThrow(/URL/u);

    const done = await t.repos.replies.markManualDone(
      reply.id,
      { url: 'https://x.com/us/status/5' },
      WEB_ACTOR,
      later(5),
    );
    expect(done).toMatchObject({ state: 'manual_done', url: 'https://x.com/us/status/5', sentAt: later(5) });
    expect(await t.repos.replies.markManualDone(reply.id, {}, WEB_ACTOR, later(6))).toEqual(done);
    expect(await count('SELECT count(*)::int AS n FROM contacts WHERE match_id = $1', [match.id])).toBe(1);
    expect(await t.repos.matches.get(match.id)).toMatchObject({
      status: 'replied',
      firstResponseAt: later(1),
    });
    expect(await t.repos.audit.list({ limit: 5, action: 'reply.manual_done' })).toMatchObject([
      { target: match.id, actor: WEB_ACTOR, detail: { replyId: reply.id } },
    ]);
    // Final states stay final.
    expect((await t.repos.replies.markManualPending(reply.id, manualUrl)).state).toBe('manual_done');
  });

  it('reports unknown replies', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(t.repos.replies.markSent(missing, { platformReplyId: 'x', url: null }, NOW)).rejects.toThrow(
      /reply "00000000-0000-4000-8000-000000000000" does not exist/u,
    );
    await expect(t.repos.replies.markFailed(missing, 'e', NOW)).rejects.toThrow(/does not exist/u);
    expect(await t.repos.replies.get(missing)).toBeNull();
    expect(await t.repos.replies.get('garbage')).toBeNull();
  });
});

describe('replies: one lock order', () => {
  // Re-submitting a reply (begin: match lock, then the reply row) while the reply job records the
  // platform's answer (markSent: reply row, then the match's status) deadlocked when the two took the
  // same locks in opposite orders; PostgreSQL then aborted one of them (SQLSTATE 40P01).
  it('begin again while the reply is being marked sent never deadlocks', async () => {
    const rounds = 12;
    const failures: unknown[] = [];
    for (let round = 0; round < rounds; round++) {
      const match = await newMatch();
      const { reply } = await t.repos.replies.begin(match.id, input(`lock-${match.id}`), NOW);
      const results = await Promise.allSettled([
        t.repos.replies.begin(match.id, input(`lock-${match.id}`), NOW),
        t.repos.replies.markSent(reply.id, { platformReplyId: `p-${round}`, url: null }, later(1)),
        t.repos.replies.begin(match.id, input(`lock-${match.id}`), NOW),
        t.repos.replies.markManualDone(reply.id, {}, WEB_ACTOR, later(1)),
      ]);
      failures.push(...results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])));
    }
    expect(failures.map((e) => String((e as { cause?: unknown }).cause ?? e))).toEqual([]);
  });
});
