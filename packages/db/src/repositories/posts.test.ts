import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  decideAll,
  engineFor,
  makePost,
  NOW,
  rejection,
  type TestDb,
} from '../../test/support.ts';
import { createPostRepository, type PostRepository } from './posts.ts';

let t: TestDb;
let posts: PostRepository;

const at = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

const stored = [
  makePost('1', 'ブクログ いちばん古い', { createdAt: at(50) }),
  makePost('2', '関係ない投稿', { createdAt: at(40) }),
  makePost('3', 'booklog on mastodon', { platform: 'mastodon', createdAt: at(30) }),
  makePost('4', 'ブクログ 最新', { createdAt: at(10) }),
  makePost('5', 'mastodon newest', { platform: 'mastodon', createdAt: at(5) }),
];

beforeAll(async () => {
  t = await createTestDb('posts');
  posts = createPostRepository(t.db);
  // Matched or not, every fetched post is stored; fetch order differs from posting order on purpose.
  await t.repos.ingest.storeBatch(null, decideAll(engineFor(), stored.toReversed()), undefined, NOW);
});
afterAll(async () => {
  await t?.drop();
});

describe('post repository', () => {
  it('returns the newest posts first, matched or not, as stored', async () => {
    const recent = await posts.recent({ limit: 10 });
    expect(recent.map((p) => `${p.platform}:${p.id}`)).toEqual([
      'mastodon:5',
      'x:4',
      'mastodon:3',
      'x:2',
      'x:1',
    ]);
    expect(recent[1]).toEqual(stored[3]);
  });

  it('keeps to the limit', async () => {
    expect((await posts.recent({ limit: 2 })).map((p) => p.id)).toEqual(['5', '4']);
  });

  it('filters by platform', async () => {
    expect((await posts.recent({ limit: 10, platform: 'x' })).map((p) => p.id)).toEqual(['4', '2', '1']);
    expect((await posts.recent({ limit: 10, platform: 'mastodon' })).map((p) => p.id)).toEqual(['5', '3']);
  });

  it('is empty when nothing is stored', async () => {
    const other = await createTestDb('posts_empty');
    try {
      expect(await createPostRepository(other.db).recent({ limit: 5 })).toEqual([]);
    } finally {
      await other.drop();
    }
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 1001 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ limit: 5, platform: 'threads' }, 'platform'],
  ])('refuses bad options %j', async (options, path) => {
    const error = await rejection(posts.recent(options as never));
    expect(error.problems?.map((p) => p.path)).toEqual([path]);
  });
});
