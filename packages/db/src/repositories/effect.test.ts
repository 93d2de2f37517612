import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  NOW,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';
import type { MatchRecord, ReplyRecord } from '../types.ts';
import type { CustomerActivity } from './cases.ts';

/*
 * The effect of our replies (StatsRepository.effect / answers / voices) over real PostgreSQL: each
 * reply counted once whatever number of reactions it drew, follow-ups counted as replies sent, the
 * filters, and no replies at all.
 */

let t: TestDb;
let accountId: string;
const MIN = 60_000;
const later = (minutes: number) => new Date(NOW.getTime() + minutes * MIN);
const engine = engineFor({
  watches: [
    { id: 'brand', query: 'ブクログ' },
    { id: 'app', query: 'アプリ' },
  ],
});
const WEEK = later(7 * 24 * 60);
let seq = 0;

async function newMatch(platform: 'x' | 'mastodon', text = 'ブクログ最高です'): Promise<MatchRecord> {
  seq += 1;
  const post = makePost(`e${seq}`, text, {
    platform,
    author: { id: `author-${seq}`, handle: `reader${seq}`, displayName: '', followers: 1 },
  });
  const [match] = (await t.repos.ingest.storeBatch(accountId, decideAll(engine, [post]), undefined, NOW))
    .newMatches;
  if (match === undefined) throw new Error('the post did not match');
  return match;
}

/** Our reply decided (with `templateId`) and begun at `decidedAt`, sent as platform post `ours` at `sentAt`. */
async function sentReply(
  match: MatchRecord,
  ours: string,
  sentAt: Date,
  options: { templateId?: string; target?: string } = {},
): Promise<ReplyRecord> {
  const decidedAt = new Date(sentAt.getTime() - MIN);
  const { reply } = await t.repos.replies.begin(
    match.id,
    {
      accountId,
      text: `reply ${ours}`,
      idempotencyKey: `k-${ours}`,
      actor: DISCORD_ACTOR,
      ...(options.target
        ? {
            target: {
              postId: options.target,
              url: `https://x.com/i/status/${options.target}`,
              authorHandle: 'x',
            },
          }
        : {}),
    },
    decidedAt,
  );
  await t.repos.reviews.recordDecision(
    match.id,
    'reply',
    WEB_ACTOR,
    { category: 'thanks', text: 'x', ...(options.templateId ? { templateId: options.templateId } : {}) },
    decidedAt,
  );
  return t.repos.replies.markSent(reply.id, { platformReplyId: ours, url: null }, sentAt, {
    followUntil: WEEK,
  });
}

async function answer(
  match: MatchRecord,
  id: string,
  ours: string,
  kind: 'thanks' | 'unhappy' | 'question' | 'other',
  at: Date,
  text = kind === 'thanks' ? 'ありがとうございます！' : 'まだ直りません',
) {
  const activity: CustomerActivity = {
    kind: 'answer',
    post: { ...match.post, id, text, inReplyTo: ours, createdAt: at.toISOString() },
    reading: { kind, signals: [kind], lang: 'ja' },
  };
  const recorded = await t.repos.cases.recordActivity(accountId, activity, at, () => []);
  if (recorded === null) throw new Error(`answer ${id} not recorded`);
  return recorded;
}

async function react(match: MatchRecord, kind: 'like' | 'repost', ours: string, at: Date) {
  const activity: CustomerActivity = {
    kind,
    platform: match.platform,
    replyPostId: ours,
    author: { id: match.post.author.id, handle: match.post.author.handle },
    at,
  };
  if ((await t.repos.cases.recordActivity(accountId, activity, at, () => [])) === null)
    throw new Error(`${kind} not recorded`);
}

const PERIOD = { from: later(0), to: later(24 * 60) };
const m: Record<string, MatchRecord> = {};

beforeAll(async () => {
  t = await createTestDb('effect');
  accountId = (
    await t.repos.accounts.create({ platform: 'x', label: 'main', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
  // a: thanked after 10 min, then unhappy, then got a follow-up (a second reply sent) nobody answered.
  m.a = await newMatch('x');
  await sentReply(m.a, 'r-a', later(10), { templateId: 'thanks-default' });
  await answer(m.a, 'ans-a1', 'r-a', 'thanks', later(20));
  await answer(m.a, 'ans-a2', 'r-a', 'unhappy', later(40));
  await sentReply(m.a, 'r-a2', later(50), { target: 'ans-a2', templateId: 'apology' });
  // b: liked after 60 min (positive), on Mastodon.
  m.b = await newMatch('mastodon');
  await sentReply(m.b, 'r-b', later(100));
  await react(m.b, 'like', 'r-b', later(160));
  // c: reposted after 30 min and then asked a question (a reaction, not a positive one).
  m.c = await newMatch('x', 'ブクログのアプリが落ちる');
  await sentReply(m.c, 'r-c', later(200), { templateId: 'thanks-default' });
  await react(m.c, 'repost', 'r-c', later(230));
  await answer(m.c, 'ans-c', 'r-c', 'question', later(300), '=1+2 どうやって直しますか？');
  // d: no reaction at all.
  m.d = await newMatch('x');
  await sentReply(m.d, 'r-d', later(400));
  // e: sent before the period; its answer arrives during it (counted among the answers, not the cohort).
  m.e = await newMatch('x');
  await sentReply(m.e, 'r-e', later(-60));
  await answer(m.e, 'ans-e', 'r-e', 'thanks', later(5));
});
afterAll(async () => {
  await t?.drop();
});

describe('effect of our replies', () => {
  it('no replies in the period: zeros and no rates', async () => {
    const effect = await t.repos.stats.effect({ from: later(-3000), to: later(-2000) });
    expect(effect.totals).toMatchObject({
      sent: 0,
      reacted: 0,
      positive: 0,
      reactionRate: null,
      positiveRate: null,
    });
    expect(effect.totals.medianReactionSeconds).toBeNull();
    expect(effect.totals.p90ReactionSeconds).toBeNull();
    expect(effect.byPlatform).toEqual([]);
    expect(effect.answersByKind).toEqual({ thanks: 0, unhappy: 0, question: 0, other: 0 });
  });

  it('counts each reply once, follow-ups as replies sent, likes and thanks as positive', async () => {
    const effect = await t.repos.stats.effect(PERIOD);
    // a, a's follow-up, b, c, d.
    expect(effect.totals).toMatchObject({
      sent: 5,
      followUps: 1,
      reacted: 3,
      answered: 2,
      liked: 1,
      reposted: 1,
      positive: 2,
      reactionRate: 3 / 5,
      positiveRate: 2 / 5,
    });
    // First reactions: a after 10 min, b after 60, c after 30 (the repost, not the later answer).
    expect(effect.totals.medianReactionSeconds).toBe(30 * 60);
    expect(effect.totals.p90ReactionSeconds).toBeCloseTo(((60 - 30) * 0.8 + 30) * 60, 6);
    // Answers to the cohort's replies by reading (e's answer belongs to a reply sent before).
    expect(effect.answersByKind).toEqual({ thanks: 1, unhappy: 1, question: 1, other: 0 });
  });

  it('splits by platform and by template, and filters by platform, watch and template', async () => {
    const effect = await t.repos.stats.effect(PERIOD);
    expect(effect.byPlatform).toEqual([
      expect.objectContaining({ platform: 'x', sent: 4, reacted: 2, positive: 1 }),
      expect.objectContaining({ platform: 'mastodon', sent: 1, reacted: 1, positive: 1, liked: 1 }),
    ]);
    expect(effect.byTemplate).toEqual([
      expect.objectContaining({ templateId: 'thanks-default', sent: 2, reacted: 2, positive: 1 }),
      expect.objectContaining({ templateId: null, sent: 2, reacted: 1 }),
      expect.objectContaining({ templateId: 'apology', sent: 1, reacted: 0, followUps: 1 }),
    ]);
    expect((await t.repos.stats.effect({ ...PERIOD, platform: 'mastodon' })).totals).toMatchObject({
      sent: 1,
      positiveRate: 1,
      medianReactionSeconds: 3600,
    });
    expect((await t.repos.stats.effect({ ...PERIOD, watch: 'app' })).totals).toMatchObject({
      sent: 1,
      reacted: 1,
    });
    expect((await t.repos.stats.effect({ ...PERIOD, templateId: 'thanks-default' })).totals.sent).toBe(2);
    expect((await t.repos.stats.effect({ ...PERIOD, templateId: '' })).totals.sent).toBe(2);
  });

  it('finds a period the dashboard way: local midnights', async () => {
    expect(await t.repos.stats.period({ now: NOW, days: 7, timeZone: 'Asia/Tokyo' })).toEqual({
      from: new Date('2026-11-17T15:00:00Z'),
      to: NOW,
    });
  });

  it.each([
    // 2026-11-24 is a Tuesday; 18:00 in Tokyo.
    ['daily', 9, 'Asia/Tokyo', '2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'],
    ['daily', 20, 'Asia/Tokyo', '2026-11-22T11:00:00Z', '2026-11-23T11:00:00Z'],
    ['weekly', 9, 'Asia/Tokyo', '2026-11-16T00:00:00Z', '2026-11-23T00:00:00Z'],
    ['daily', 9, 'UTC', '2026-11-23T09:00:00Z', '2026-11-24T09:00:00Z'],
    // 04:00 in New York: the period that ended yesterday at 9:00.
    ['daily', 9, 'America/New_York', '2026-11-22T14:00:00Z', '2026-11-23T14:00:00Z'],
  ] as const)(
    'the latest %s digest period ending at %i:00 in %s',
    async (every, hour, timeZone, from, to) => {
      expect(await t.repos.stats.digestPeriod({ now: NOW, every, hour, timeZone })).toEqual({
        from: new Date(from),
        to: new Date(to),
      });
    },
  );

  it('a daily digest across a daylight saving change lasts the local day', async () => {
    expect(
      await t.repos.stats.digestPeriod({
        // Daylight saving time ended in New York at 2:00 on Sunday 1 November 2026: a 25-hour day.
        now: new Date('2026-11-01T15:00:00Z'),
        every: 'daily',
        hour: 9,
        timeZone: 'America/New_York',
      }),
    ).toEqual({ from: new Date('2026-10-31T13:00:00Z'), to: new Date('2026-11-01T14:00:00Z') });
  });

  it('refuses a period that ends before it starts', async () => {
    await expect(t.repos.stats.effect({ from: later(10), to: later(0) })).rejects.toThrow(
      /from must not be after to/,
    );
  });

  it('lists what customers said back, newest first, by reading, paged', async () => {
    const all = await t.repos.stats.answers(PERIOD);
    expect(all.map((a) => a.text)).toEqual([
      '=1+2 どうやって直しますか？',
      'まだ直りません',
      'ありがとうございます！',
      'ありがとうございます！',
    ]);
    expect(all[0]).toMatchObject({
      platform: 'x',
      reading: { kind: 'question' },
      reply: { seq: 1, text: 'reply r-c', templateId: 'thanks-default' },
    });
    const thanks = await t.repos.stats.answers({ ...PERIOD, kind: 'thanks' });
    expect(thanks.map((a) => a.matchId).sort()).toEqual([m.a?.id, m.e?.id].sort());
    const first = await t.repos.stats.answers(PERIOD, { limit: 2 });
    const last = first[1] as (typeof first)[number];
    const rest = await t.repos.stats.answers(PERIOD, { limit: 2, before: { at: last.at, id: last.id } });
    expect([...first, ...rest].map((a) => a.id)).toEqual(all.map((a) => a.id));
  });

  it('lists the voices of the period with their case', async () => {
    await t.repos.desk.transaction(async (tx) => {
      await tx.tagVoice(
        m.c?.id as string,
        { actor: WEB_ACTOR, department: 'アプリ開発', summary: '' },
        later(310),
      );
      await tx.tagVoice(
        m.a?.id as string,
        { actor: WEB_ACTOR, department: '営業', summary: '一言' },
        later(320),
      );
    });
    // Tagged again for the same department: one voice, the new summary.
    const again = await t.repos.desk.transaction((tx) =>
      tx.tagVoice(
        m.c?.id as string,
        { actor: DISCORD_ACTOR, department: 'アプリ開発', summary: '落ちる' },
        later(330),
      ),
    );
    expect(again.created).toBe(false);
    const voices = await t.repos.stats.voices(PERIOD);
    expect(voices.map((v) => [v.department, v.summary])).toEqual([
      ['アプリ開発', '落ちる'],
      ['営業', '一言'],
    ]);
    expect(voices[0]).toMatchObject({
      matchId: m.c?.id,
      actor: DISCORD_ACTOR,
      lastAnswer: { text: '=1+2 どうやって直しますか？', kind: 'question' },
      postText: 'ブクログのアプリが落ちる',
    });
    expect((await t.repos.stats.voices({ ...PERIOD, department: '営業' })).map((v) => v.matchId)).toEqual([
      m.a?.id,
    ]);
    expect(await t.repos.stats.voices({ ...PERIOD, platform: 'mastodon' })).toEqual([]);
  });
});
