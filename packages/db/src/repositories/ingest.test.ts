import type { Post } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  NOW,
  rejection,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';
import type { PollOutcome } from '../types.ts';

let t: TestDb;
let accountId: string;
const engine = engineFor();

beforeAll(async () => {
  t = await createTestDb('ingest');
  accountId = (
    await t.repos.accounts.create({ platform: 'x', label: 'main', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
});
afterAll(async () => {
  await t?.drop();
});

const count = async (table: string) =>
  (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;

const outcome = (cursor: string, postsRead: number): PollOutcome => ({
  cursor,
  rateLimit: { limit: 450, remaining: 449, resetAt: new Date(NOW.getTime() + 900_000) },
  postsRead,
  requests: 1,
});

const page1 = [
  makePost('101', 'ブクログ使ってます、最高！'),
  makePost('102', 'booklogの課金ができない…'),
  makePost('103', '今日はいい天気'),
  makePost('104', 'ブクログ新機能のお知らせ', {
    author: { id: 'own', handle: 'booklog_official', displayName: 'ブクログ', followers: 9000 },
  }),
  makePost('105', 'お昼ごはん'),
];

describe('storeBatch', () => {
  it('stores posts and authors, and a match per matched decision with its status', async () => {
    const result = await t.repos.ingest.storeBatch(
      accountId,
      decideAll(engine, page1),
      { cursor: { accountId, sourceKey: 'search:brand', outcome: outcome('c1', 5) } },
      NOW,
    );
    expect(result.duplicates).toBe(0);
    const byPost = new Map(result.newMatches.map((m) => [m.postId, m]));
    expect([...byPost.keys()].sort()).toEqual(['101', '102', '104']);
    expect(byPost.get('101')).toMatchObject({
      status: 'new',
      suppressed: false,
      escalated: false,
      accountId,
    });
    expect(byPost.get('102')).toMatchObject({ status: 'new', escalated: true, priority: 'high' });
    expect(byPost.get('104')).toMatchObject({ status: 'suppressed', suppressed: true });
    expect(byPost.get('104')?.decision.suppression.reasons).toEqual(['own_account']);
    expect(byPost.get('101')?.post).toEqual(page1[0]);
    expect(await count('posts')).toBe(5);
    expect(await count('authors')).toBe(5);
    expect(await count('matches')).toBe(3);

    // What is stored reads back the same.
    const again = await t.repos.matches.get(byPost.get('102')?.id as string);
    expect(again).toEqual(byPost.get('102'));
    expect((await t.repos.sources.get(accountId, 'search:brand'))?.cursor).toBe('c1');
  });

  it('is idempotent: the same batch again creates nothing and counts duplicates', async () => {
    const result = await t.repos.ingest.storeBatch(
      accountId,
      decideAll(engine, page1),
      { cursor: { accountId, sourceKey: 'search:brand', outcome: outcome('c1', 5) } },
      new Date(NOW.getTime() + 60_000),
    );
    expect(result).toEqual({ newMatches: [], duplicates: 5 });
    expect(await count('posts')).toBe(5);
    expect(await count('matches')).toBe(3);
    expect(await t.repos.sources.usage(accountId, NOW, NOW)).toEqual([
      { day: '2026-11-24', postsRead: 10, requests: 2, replies: 0 },
    ]);
  });

  it('counts duplicates inside one batch and keeps the first occurrence', async () => {
    const post = makePost('201', 'ブクログ 1');
    const twin = { ...post, text: 'ブクログ 2' };
    const result = await t.repos.ingest.storeBatch(null, decideAll(engine, [post, twin]), undefined, NOW);
    expect(result.duplicates).toBe(1);
    expect(result.newMatches).toHaveLength(1);
    expect(result.newMatches[0]?.post.text).toBe('ブクログ 1');
    expect(result.newMatches[0]?.accountId).toBeNull();
  });

  it('advances the cursor only together with its batch: a failing batch leaves everything as it was', async () => {
    const before = await t.repos.sources.get(accountId, 'search:brand');
    const usageBefore = await t.repos.sources.usage(accountId, NOW, NOW);
    const postsBefore = await count('posts');
    // A constraint the batch's last match violates, after its posts and authors were written.
    await t.pool.query(`ALTER TABLE matches ADD CONSTRAINT test_poison CHECK (post_id <> 'poison')`);
    const batch = decideAll(engine, [
      makePost('301', 'ブクログ A'),
      makePost('302', 'x'),
      makePost('poison', 'ブクログ B'),
    ]);
    try {
      await expect(
        t.repos.ingest.storeBatch(
          accountId,
          batch,
          { cursor: { accountId, sourceKey: 'search:brand', outcome: outcome('c2', 3) } },
          NOW,
        ),
      ).rejects.toThrow();
    } finally {
      await t.pool.query('ALTER TABLE matches DROP CONSTRAINT test_poison');
    }
    expect(await t.repos.sources.get(accountId, 'search:brand')).toEqual(before);
    expect(await t.repos.sources.usage(accountId, NOW, NOW)).toEqual(usageBefore);
    expect(await count('posts')).toBe(postsBefore);
    expect(await t.repos.matches.list({}, { limit: 100 })).not.toContainEqual(
      expect.objectContaining({ postId: '301' }),
    );

    // The retry (what BullMQ does) stores it all, cursor included.
    const retry = await t.repos.ingest.storeBatch(
      accountId,
      batch,
      { cursor: { accountId, sourceKey: 'search:brand', outcome: outcome('c2', 3) } },
      NOW,
    );
    expect(retry.newMatches.map((m) => m.postId).sort()).toEqual(['301', 'poison']);
    expect((await t.repos.sources.get(accountId, 'search:brand'))?.cursor).toBe('c2');
  });

  it('a cursor for an unknown account fails the whole batch', async () => {
    const postsBefore = await count('posts');
    await expect(
      t.repos.ingest.storeBatch(
        accountId,
        decideAll(engine, [makePost('401', 'ブクログ')]),
        {
          cursor: {
            accountId: '00000000-0000-4000-8000-000000000000',
            sourceKey: 's',
            outcome: outcome('zz', 1),
          },
        },
        NOW,
      ),
    ).rejects.toThrow();
    expect(await count('posts')).toBe(postsBefore);
  });

  it('updates an author profile that changed, and survives NUL and unpaired surrogates', async () => {
    const changed = makePost('501', 'ブクログ\u0000です\uD83D', {
      author: { id: 'a-101', handle: 'user101', displayName: 'New name\u0000', followers: 11 },
    });
    const result = await t.repos.ingest.storeBatch(accountId, decideAll(engine, [changed]), undefined, NOW);
    expect(result.newMatches[0]?.post.text).toBe('ブクログ\uFFFDです\uFFFD');
    expect((await t.repos.matches.get(result.newMatches[0]?.id as string))?.post.text).toBe(
      'ブクログ\uFFFDです\uFFFD',
    );
    const { rows } = await t.pool.query(
      `SELECT display_name, followers FROM authors WHERE platform = 'x' AND author_id = 'a-101'`,
    );
    expect(rows).toEqual([{ display_name: 'New name\uFFFD', followers: 11 }]);
  });

  it('refuses malformed items, naming each one, before writing anything', async () => {
    const good = decideAll(engine, [makePost('601', 'ブクログ')])[0] as { post: Post; decision: never };
    const other = decideAll(engine, [makePost('602', 'ブクログ')])[0]?.decision as never;
    const error = await rejection(
      t.repos.ingest.storeBatch(
        accountId,
        [
          good,
          { post: { ...good.post, createdAt: 'yesterday' }, decision: good.decision },
          { post: good.post, decision: other },
        ],
        undefined,
        NOW,
      ),
    );
    expect(error.problems?.map((p) => p.path)).toEqual(['items[1].post.createdAt', 'items[2].decision.post']);
    await expect(t.repos.ingest.storeBatch('nope', [], undefined, NOW)).rejects.toThrow(/accountId/u);
    expect(await t.repos.ingest.storeBatch(null, [], undefined, NOW)).toEqual({
      newMatches: [],
      duplicates: 0,
    });
  });
});

describe('contactHistory and repliesToday', () => {
  /** Stores a post, replies to its match and marks the reply sent at `at`. */
  async function replyTo(post: Post, at: Date, manual = false) {
    const [match] = (await t.repos.ingest.storeBatch(accountId, decideAll(engine, [post], at), undefined, at))
      .newMatches;
    if (match === undefined) throw new Error(`post ${post.id} did not match`);
    const { reply } = await t.repos.replies.begin(
      match.id,
      {
        accountId,
        text: 'ありがとうございます',
        idempotencyKey: `k-${post.platform}-${post.id}`,
        actor: DISCORD_ACTOR,
      },
      at,
    );
    if (manual) {
      await t.repos.replies.markManualPending(reply.id, 'https://x.com/intent/post?in_reply_to=1');
      await t.repos.replies.markManualDone(reply.id, {}, DISCORD_ACTOR, at);
    } else {
      await t.repos.replies.markSent(reply.id, { platformReplyId: `r${post.id}`, url: null }, at);
    }
    return match;
  }

  const hanaOnX = makePost('701', 'ブクログ大好き', {
    author: { id: 'x-hana', handle: 'Hana', displayName: 'はな', followers: 5 },
  });
  const hanaOnMastodon = makePost('m702', 'ブクログってどう？', {
    platform: 'mastodon',
    author: { id: 'm-77', handle: 'hana@mstdn.jp', displayName: 'はな', followers: 5 },
  });

  it('finds contacts by author id on the platform, and by handle across platforms', async () => {
    const repliedAt = new Date('2026-11-24T10:00:00.000Z');
    const match = await replyTo(hanaOnX, repliedAt);
    const expected = {
      platform: 'x',
      authorId: 'x-hana',
      handle: 'Hana',
      at: repliedAt.toISOString(),
      matchId: match.id,
    };
    const since = new Date('2026-11-21T00:00:00.000Z');

    // Same id, handle since renamed.
    expect(
      await t.repos.ingest.contactHistory(
        [{ platform: 'x', authorId: 'x-hana', handle: 'hana_renamed' }],
        since,
      ),
    ).toEqual([expected]);
    // Same handle (other case, other platform, with an instance).
    expect(
      await t.repos.ingest.contactHistory(
        [{ platform: 'mastodon', authorId: 'm-77', handle: '@HANA@mstdn.jp' }],
        since,
      ),
    ).toEqual([expected]);
    // The suppression policy's own keys work as well.
    expect(await t.repos.ingest.contactHistory(['name:hana'], since)).toEqual([expected]);
    expect(await t.repos.ingest.contactHistory(['id:x:x-hana'], since)).toEqual([expected]);
    // Other people, another platform's id, or too long ago: nothing.
    expect(
      await t.repos.ingest.contactHistory(
        [{ platform: 'mastodon', authorId: 'x-hana', handle: 'someone' }],
        since,
      ),
    ).toEqual([]);
    expect(
      await t.repos.ingest.contactHistory(
        [{ platform: 'x', authorId: 'x-hana', handle: 'Hana' }],
        new Date(repliedAt.getTime() + 1),
      ),
    ).toEqual([]);
    expect(await t.repos.ingest.contactHistory([], since)).toEqual([]);

    // And the rules, given this history, hold back the Mastodon post (cooldown across platforms).
    const now = new Date('2026-11-24T12:00:00.000Z');
    const history = await t.repos.ingest.contactHistory(
      [{ platform: 'mastodon', authorId: hanaOnMastodon.author.id, handle: hanaOnMastodon.author.handle }],
      new Date(now.getTime() - 72 * 3_600_000),
    );
    const decision = engine.decide(
      { ...hanaOnMastodon, createdAt: '2026-11-24T11:00:00Z' },
      { now, contactHistory: history },
    );
    expect(decision.matched && decision.suppression.reasons).toEqual(['author_cooldown']);
  });

  it('counts replies sent or done by hand during the UTC day, per platform', async () => {
    const lastMs = new Date('2026-11-26T23:59:59.999Z');
    const midnight = new Date('2026-11-27T00:00:00.000Z');
    await replyTo(makePost('801', 'ブクログ a'), lastMs);
    await replyTo(makePost('802', 'ブクログ b'), midnight, true);
    await replyTo(makePost('m803', 'ブクログ c', { platform: 'mastodon' }), midnight);
    // A reply that was never sent does not count.
    const [pending] = (
      await t.repos.ingest.storeBatch(
        accountId,
        decideAll(engine, [makePost('804', 'ブクログ d')]),
        undefined,
        midnight,
      )
    ).newMatches;
    await t.repos.replies.begin(
      pending?.id as string,
      { accountId, text: 'x', idempotencyKey: 'k-804', actor: DISCORD_ACTOR },
      midnight,
    );

    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-26T00:00:00.000Z'))).toBe(1);
    expect(await t.repos.ingest.repliesToday('x', lastMs)).toBe(1);
    expect(await t.repos.ingest.repliesToday('x', midnight)).toBe(1);
    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-27T23:59:59.999Z'))).toBe(1);
    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-28T00:00:00.000Z'))).toBe(0);
    expect(await t.repos.ingest.repliesTodayByPlatform(midnight)).toEqual({ x: 1, mastodon: 1 });
    // The day of the organisation's time zone: 23:59:59.999 UTC and 00:00 UTC are both 27 November in Tokyo.
    expect(await t.repos.ingest.repliesToday('x', midnight, 'Asia/Tokyo')).toBe(2);
    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-26T14:59:59.999Z'), 'Asia/Tokyo')).toBe(
      0,
    );
    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-27T14:59:59.999Z'), 'Asia/Tokyo')).toBe(
      2,
    );
    expect(await t.repos.ingest.repliesToday('x', new Date('2026-11-27T15:00:00.000Z'), 'Asia/Tokyo')).toBe(
      0,
    );
    expect(await t.repos.ingest.repliesTodayByPlatform(lastMs, 'Asia/Tokyo')).toEqual({ x: 2, mastodon: 1 });
    await expect(t.repos.ingest.repliesToday('x', midnight, 'Mars/Olympus')).rejects.toThrow(/time zone/u);
    expect(await t.repos.sources.usage(accountId, lastMs, midnight)).toEqual([
      expect.objectContaining({ day: '2026-11-26', replies: 1 }),
      expect.objectContaining({ day: '2026-11-27', replies: 2 }),
    ]);
  });
});
