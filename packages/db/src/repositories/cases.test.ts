import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DISCORD_ACTOR, matchMaker, NOW, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';
import type { CustomerActivity } from './cases.ts';

let t: TestDb;
let accountId: string;
let newMatch: () => Promise<MatchRecord>;
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const WEEK = later(7 * 24 * 60);

beforeAll(async () => {
  t = await createTestDb('cases');
  ({ accountId, newMatch } = await matchMaker(t, '7'));
});
afterAll(async () => {
  await t?.drop();
});

/** A match whose first reply was sent as platform post `ours`, followed for a week. */
async function repliedMatch(ours: string): Promise<MatchRecord> {
  const match = await newMatch();
  const { reply } = await t.repos.replies.begin(
    match.id,
    { accountId, text: 'ご不便をおかけしております', idempotencyKey: `k-${match.id}`, actor: DISCORD_ACTOR },
    NOW,
  );
  await t.repos.replies.markSent(reply.id, { platformReplyId: ours, url: null }, later(1), {
    followUntil: WEEK,
  });
  return (await t.repos.matches.get(match.id)) as MatchRecord;
}

const answer = (
  match: MatchRecord,
  id: string,
  inReplyTo: string,
  kind: 'thanks' | 'unhappy' | 'question' | 'other',
  author = match.post.author,
): CustomerActivity => ({
  kind: 'answer',
  post: {
    ...match.post,
    id,
    url: `https://x.com/i/status/${id}`,
    text: kind === 'thanks' ? 'ありがとうございます！' : 'まだ直りません',
    inReplyTo,
    author,
    createdAt: later(10).toISOString(),
  },
  reading: { kind, signals: [kind], lang: 'ja' },
});

describe('cases', () => {
  it('a sent reply makes the case wait for the customer and followed until the window ends', async () => {
    const match = await repliedMatch('r-100');
    expect(match).toMatchObject({ status: 'replied', caseState: 'waiting', followUntil: WEEK });
    const followed = await t.repos.cases.followed(accountId, later(60));
    expect(followed.find((f) => f.matchId === match.id)).toMatchObject({
      platformReplyId: 'r-100',
      customer: { id: match.post.author.id, handle: match.post.author.handle },
    });
    expect(
      (await t.repos.cases.followed(accountId, later(8 * 24 * 60))).some((f) => f.matchId === match.id),
    ).toBe(false);
  });

  it('a thankful answer resolves the case; read twice, it is recorded once', async () => {
    const match = await repliedMatch('r-200');
    const jobs = (r: { matchId: string; event: { id: string } }) => [
      {
        queue: 'caseUpdate',
        jobId: `case-${r.event.id}`,
        payload: { matchId: r.matchId, eventId: r.event.id },
      },
    ];
    const first = await t.repos.cases.recordActivity(
      accountId,
      answer(match, 'a-200', 'r-200', 'thanks'),
      later(11),
      jobs,
    );
    const again = await t.repos.cases.recordActivity(
      accountId,
      answer(match, 'a-200', 'r-200', 'thanks'),
      later(12),
      jobs,
    );
    expect(first).toMatchObject({ matchId: match.id, reopened: false, resolved: true });
    expect(again).toBeNull();
    expect((await t.repos.matches.get(match.id))?.caseState).toBe('resolved');
    const events = await t.repos.cases.events(match.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'answer', postId: 'a-200', reading: { kind: 'thanks' } });
    const queued = await t.pool.query(`SELECT job_id FROM outbox WHERE payload->>'matchId' = $1`, [match.id]);
    expect(queued.rows).toHaveLength(1);
  });

  it('an unhappy answer opens the case again; answers from others and to others are not the case’s', async () => {
    const match = await repliedMatch('r-300');
    const stranger = { ...match.post.author, id: 'someone-else', handle: 'someone' };
    expect(
      await t.repos.cases.recordActivity(
        accountId,
        answer(match, 'a-301', 'r-300', 'unhappy', stranger),
        later(11),
        () => [],
      ),
    ).toBeNull();
    expect(
      await t.repos.cases.recordActivity(
        accountId,
        answer(match, 'a-302', 'not-ours', 'unhappy'),
        later(11),
        () => [],
      ),
    ).toBeNull();
    const recorded = await t.repos.cases.recordActivity(
      accountId,
      answer(match, 'a-303', 'r-300', 'unhappy'),
      later(11),
      () => [],
    );
    expect(recorded).toMatchObject({ reopened: true, resolved: false });
    expect((await t.repos.matches.get(match.id))?.caseState).toBe('open');
  });

  it('a like is recorded once and does not move the case', async () => {
    const match = await repliedMatch('r-400');
    const like: CustomerActivity = {
      kind: 'like',
      platform: match.platform,
      replyPostId: 'r-400',
      author: { id: match.post.author.id, handle: match.post.author.handle },
      at: later(5),
    };
    expect(await t.repos.cases.recordActivity(accountId, like, later(6), () => [])).not.toBeNull();
    expect(await t.repos.cases.recordActivity(accountId, like, later(7), () => [])).toBeNull();
    expect((await t.repos.matches.get(match.id))?.caseState).toBe('waiting');
  });

  it('follow-ups: one per customer post, numbered after the first; the first stays the match’s reply', async () => {
    const match = await repliedMatch('r-500');
    const followUp = (key: string) =>
      t.repos.desk.transaction(async (tx) => {
        await tx.lockMatch(match.id);
        return tx.insertReply(
          match.id,
          {
            accountId,
            text: 'ご返信ありがとうございます',
            idempotencyKey: key,
            actor: WEB_ACTOR,
            target: {
              postId: 'a-500',
              url: 'https://x.com/i/status/a-500',
              authorHandle: match.post.author.handle,
            },
          },
          later(20),
        );
      });
    const [a, b] = await Promise.all([followUp('f-1'), followUp('f-2')]);
    expect([a, b].filter((r) => r !== null)).toHaveLength(1);
    const replies = await t.repos.replies.listForMatch(match.id);
    expect(replies.map((r) => r.seq)).toEqual([1, 2]);
    expect(replies[1]?.target).toEqual({
      postId: 'a-500',
      url: 'https://x.com/i/status/a-500',
      authorHandle: match.post.author.handle,
    });
    expect((await t.repos.replies.forMatch(match.id))?.seq).toBe(1);
    // Sending the follow-up records no second contact: answering someone who wrote back is not contacting them again.
    const second = replies[1];
    if (second === undefined) throw new Error('no follow-up');
    await t.repos.replies.markSent(second.id, { platformReplyId: 'r-501', url: null }, later(21));
    const contacts = await t.pool.query('SELECT count(*)::int AS n FROM contacts WHERE match_id = $1', [
      match.id,
    ]);
    expect(contacts.rows[0].n).toBe(1);
  });

  it('a case whose window ended without an answer is resolved', async () => {
    const match = await repliedMatch('r-600');
    const expired = await t.repos.cases.expireFollows(new Date(WEEK.getTime() + 1));
    expect(expired).toContain(match.id);
    expect((await t.repos.matches.get(match.id))?.caseState).toBe('resolved');
  });
});
