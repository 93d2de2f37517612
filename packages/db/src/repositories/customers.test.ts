import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  decideAll,
  engineFor,
  makePost,
  NOW,
  rejection,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';

/* A customer's history (the case page) and the inbox's case filters, on a real PostgreSQL. */

let t: TestDb;
let accountId: string;
const engine = engineFor();

beforeAll(async () => {
  t = await createTestDb('customers');
  accountId = (
    await t.repos.accounts.create({ platform: 'x', label: 'main', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
});
afterAll(async () => {
  await t?.drop();
});

const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

async function store(
  id: string,
  author: { id: string; handle: string },
  platform: 'x' | 'mastodon',
  minutes: number,
) {
  const post = makePost(id, 'ブクログ最高です', {
    platform,
    author: { ...author, displayName: '', followers: 1 },
  });
  const [match] = (
    await t.repos.ingest.storeBatch(accountId, decideAll(engine, [post]), undefined, at(minutes))
  ).newMatches;
  if (match === undefined) throw new Error('no match');
  return match;
}

describe('customers.history', () => {
  it('finds the same author on the platform, and our answered cases under the same handle elsewhere', async () => {
    const yuki = { id: 'x-yuki', handle: 'Yuki' };
    const first = await store('c1', yuki, 'x', 0);
    const second = await store('c2', yuki, 'x', 10);
    // Someone called yuki on Mastodon, answered by us: a contact with the handle key "yuki".
    const elsewhere = await store('c3', { id: 'm-yuki', handle: 'yuki@mstdn.jp' }, 'mastodon', 20);
    const { reply } = await t.repos.replies.begin(
      elsewhere.id,
      { accountId, text: 'ありがとうございます', idempotencyKey: 'k-c3', actor: WEB_ACTOR },
      at(21),
    );
    await t.repos.replies.markSent(reply.id, { platformReplyId: 'r-c3', url: null }, at(22));
    // A stranger with another handle, and an unanswered yuki on Mastodon: neither belongs.
    await store('c4', { id: 'x-other', handle: 'other' }, 'x', 30);
    await store('c5', { id: 'm-yuki2', handle: 'yuki@other.example' }, 'mastodon', 40);
    const now = await store('c6', yuki, 'x', 50);

    const history = await t.repos.customers.history(
      { platform: 'x', authorId: 'x-yuki', handle: 'Yuki' },
      { excludeMatchId: now.id, acrossPlatforms: true, limit: 10 },
    );
    expect(history.map((h) => [h.match.id, h.relation, h.replies.map((r) => r.state)])).toEqual([
      [elsewhere.id, 'same_name', ['sent']],
      [second.id, 'same_author', []],
      [first.id, 'same_author', []],
    ]);
    const sameOnly = await t.repos.customers.history(
      { platform: 'x', authorId: 'x-yuki', handle: 'Yuki' },
      { excludeMatchId: now.id, acrossPlatforms: false, limit: 1 },
    );
    expect(sameOnly.map((h) => h.match.id)).toEqual([second.id]);
    expect(
      await rejection(
        t.repos.customers.history(
          { platform: 'x', authorId: '', handle: 'Yuki' },
          { acrossPlatforms: true, limit: 0 },
        ),
      ),
    ).toMatchObject({ name: 'InvalidInputError' });
  });
});

describe('matches.list: case filters', () => {
  it('filters by case state and by assignee (nobody, or a kind and id), and by ids', async () => {
    const a = await store('f1', { id: 'f-a', handle: 'fa' }, 'x', 100);
    const b = await store('f2', { id: 'f-b', handle: 'fb' }, 'x', 101);
    const c = await store('f3', { id: 'f-c', handle: 'fc' }, 'x', 102);
    await t.pool.query(
      `UPDATE matches SET assignee = '{"kind":"web","id":"u1","name":"Aiko"}', case_state = 'waiting' WHERE id = $1`,
      [a.id],
    );
    await t.pool.query(
      `UPDATE matches SET assignee = '{"kind":"discord","id":"u1","name":"d"}', case_state = 'resolved' WHERE id = $1`,
      [b.id],
    );
    const ids = { ids: [a.id, b.id, c.id] };
    const list = async (filters: object) =>
      (await t.repos.matches.list({ ...ids, ...filters }, { limit: 10 })).map((m) => m.id);
    expect(await list({})).toEqual([c.id, b.id, a.id]);
    expect(await list({ caseState: 'waiting' })).toEqual([a.id]);
    expect(await list({ caseState: ['open', 'resolved'] })).toEqual([c.id, b.id]);
    expect(await list({ assignee: null })).toEqual([c.id]);
    // The same id under another kind is someone else.
    expect(await list({ assignee: { kind: 'web', id: 'u1' } })).toEqual([a.id]);
    expect(await list({ assignee: { kind: 'discord', id: 'u1' } })).toEqual([b.id]);
    expect(await t.repos.matches.list({ ids: [] }, { limit: 10 })).toEqual([]);
    expect(
      await rejection(t.repos.matches.list({ caseState: 'closed' as never }, { limit: 10 })),
    ).toMatchObject({
      name: 'InvalidInputError',
    });
  });
});
