import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb, WEB_ACTOR } from '../../test/support.ts';

let t: TestDb;
let accountId: string;
const T = (iso: string) => new Date(iso);

beforeAll(async () => {
  t = await createTestDb('sources');
  accountId = (
    await t.repos.accounts.create(
      { platform: 'mastodon', label: 'm', credentials: { accessToken: 'a' } },
      WEB_ACTOR,
    )
  ).id;
});
afterAll(async () => {
  await t?.drop();
});

describe('sources', () => {
  it('records polls: cursor, rate limit, usage per UTC day', async () => {
    expect(await t.repos.sources.get(accountId, 'tag:booklog')).toBeNull();
    const reset = T('2026-11-24T10:15:00.000Z');
    const state = await t.repos.sources.recordPoll(
      accountId,
      'tag:booklog',
      {
        cursor: '110',
        rateLimit: { limit: 300, remaining: 299, resetAt: reset },
        postsRead: 40,
        requests: 1,
      },
      T('2026-11-24T10:00:00.000Z'),
    );
    expect(state).toEqual({
      accountId,
      sourceKey: 'tag:booklog',
      cursor: '110',
      lastPolledAt: T('2026-11-24T10:00:00.000Z'),
      lastError: null,
      lastErrorAt: null,
      rateLimitRemaining: 299,
      rateLimitLimit: 300,
      rateLimitResetAt: reset,
      notBefore: null,
      consecutiveFailures: 0,
    });
    // An empty page (null cursor) keeps the cursor; a reset already past holds nothing back.
    const empty = await t.repos.sources.recordPoll(
      accountId,
      'tag:booklog',
      { cursor: null, rateLimit: { limit: 300, remaining: 0, resetAt: reset }, postsRead: 0, requests: 2 },
      T('2026-11-24T23:59:00.000Z'),
    );
    expect(empty).toMatchObject({ cursor: '110', rateLimitRemaining: 0, notBefore: null });
    const exhausted = await t.repos.sources.recordPoll(
      accountId,
      'tag:booklog',
      {
        cursor: '111',
        rateLimit: { limit: 300, remaining: 0, resetAt: T('2026-11-25T00:15:00.000Z') },
        postsRead: 5,
        requests: 1,
      },
      T('2026-11-25T00:01:00.000Z'),
    );
    expect(exhausted).toMatchObject({ cursor: '111', notBefore: T('2026-11-25T00:15:00.000Z') });

    expect(
      await t.repos.sources.usage(accountId, T('2026-11-24T00:00:00Z'), T('2026-11-25T23:00:00Z')),
    ).toEqual([
      { day: '2026-11-24', postsRead: 40, requests: 3, replies: 0 },
      { day: '2026-11-25', postsRead: 5, requests: 1, replies: 0 },
    ]);
    expect(
      await t.repos.sources.usage(accountId, T('2026-11-25T12:00:00Z'), T('2026-11-25T12:00:00Z')),
    ).toHaveLength(1);
  });

  it('records failures without losing the cursor, and a success resets them', async () => {
    const notBefore = T('2026-11-25T01:00:00.000Z');
    await t.repos.sources.recordFailure(
      accountId,
      'tag:booklog',
      'HTTP 502',
      null,
      T('2026-11-25T00:30:00Z'),
    );
    const twice = await t.repos.sources.recordFailure(
      accountId,
      'tag:booklog',
      'x'.repeat(5000),
      notBefore,
      T('2026-11-25T00:31:00Z'),
    );
    expect(twice).toMatchObject({
      cursor: '111',
      consecutiveFailures: 2,
      notBefore,
      lastErrorAt: T('2026-11-25T00:31:00Z'),
    });
    expect(twice.lastError?.length).toBeLessThanOrEqual(2000);

    const fresh = await t.repos.sources.recordFailure(
      accountId,
      'search:new',
      'boom',
      notBefore,
      T('2026-11-25T00:32:00Z'),
    );
    expect(fresh).toMatchObject({
      cursor: null,
      consecutiveFailures: 1,
      lastError: 'boom',
      lastPolledAt: null,
    });

    const ok = await t.repos.sources.recordPoll(
      accountId,
      'tag:booklog',
      { cursor: '112', rateLimit: null, postsRead: 1, requests: 1 },
      T('2026-11-25T01:00:00Z'),
    );
    expect(ok).toMatchObject({
      cursor: '112',
      consecutiveFailures: 0,
      lastError: null,
      notBefore: null,
      rateLimitLimit: null,
    });
    expect((await t.repos.sources.list(accountId)).map((s) => s.sourceKey)).toEqual([
      'search:new',
      'tag:booklog',
    ]);
    expect(await t.repos.sources.list()).toHaveLength(2);
  });

  it('validates what it is given', async () => {
    await expect(
      t.repos.sources.recordPoll(
        accountId,
        '',
        { cursor: null, rateLimit: null, postsRead: -1, requests: 0 },
        new Date(),
      ),
    ).rejects.toThrow(/source key/u);
    await expect(
      t.repos.sources.recordPoll(
        accountId,
        'k',
        { cursor: null, rateLimit: null, postsRead: -1, requests: 0 },
        new Date(),
      ),
    ).rejects.toThrow(/postsRead/u);
    await expect(
      t.repos.sources.recordFailure(accountId, 'k', 'e', null, new Date(Number.NaN)),
    ).rejects.toThrow(/valid Date/u);
  });
});

describe('sources: overlapping polls', () => {
  it('two polls of one source at once: the one that started from a replaced cursor keeps the other’s', async () => {
    const own = (
      await t.repos.accounts.create({ platform: 'x', label: 'overlap', credentials: { t: 1 } }, WEB_ACTOR)
    ).id;
    const poll = (cursor: string, previousCursor: string | null) =>
      t.repos.sources.recordPoll(
        own,
        'tag:overlap',
        { cursor, previousCursor, rateLimit: null, postsRead: 1, requests: 1 },
        T('2026-11-24T10:00:00.000Z'),
      );
    expect((await poll('100', null)).cursor).toBe('100');
    // Both started from 100; the faster stores first, the slower one's cursor is not stored over it.
    expect((await poll('{"sinceId":"180","bounds":["150"]}', '100')).cursor).toBe(
      '{"sinceId":"180","bounds":["150"]}',
    );
    expect((await poll('{"sinceId":"170","bounds":[]}', '100')).cursor).toBe(
      '{"sinceId":"180","bounds":["150"]}',
    );
    // A poll that started from the stored cursor moves it on.
    expect((await poll('200', '{"sinceId":"180","bounds":["150"]}')).cursor).toBe('200');
    // Without previousCursor (callers that do not race) it is stored as before.
    expect(
      (
        await t.repos.sources.recordPoll(
          own,
          'tag:overlap',
          { cursor: '300', rateLimit: null, postsRead: 0, requests: 1 },
          T('2026-11-24T10:01:00.000Z'),
        )
      ).cursor,
    ).toBe('300');
  });
});
