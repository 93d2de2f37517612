import type { Post } from '@kikimimi/rules';
import { type MastodonSandbox, type MastodonSandboxOptions, startMastodonSandbox } from '@kikimimi/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthFailedError,
  PermanentError,
  RateLimitedError,
  ReplyNotAllowedError,
  TransientError,
} from '../errors.ts';
import type { Connector, PollResult, PollSource, StreamSource } from '../types.ts';
import { createMastodonConnector, type MastodonConnectorOptions } from './mastodon-connector.ts';
import { reconnectDelay } from './mastodon-stream.ts';

const TAG = 'brand';
const tagSource: PollSource = { platform: 'mastodon', kind: 'hashtag', key: 'tag', tag: TAG };
const mentionsSource: PollSource = { platform: 'mastodon', kind: 'mentions', key: 'mentions' };
const searchSource: PollSource = { platform: 'mastodon', kind: 'search', key: 'search', query: 'ブクログ' };
const streamSource: StreamSource = {
  platform: 'mastodon',
  kind: 'stream',
  key: 's',
  stream: 'hashtag',
  tag: TAG,
};

const open: MastodonSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function world(
  sandboxOptions: MastodonSandboxOptions = {},
  connectorOptions: Partial<MastodonConnectorOptions> = {},
): Promise<{ sandbox: MastodonSandbox; connector: Connector }> {
  const sandbox = await startMastodonSandbox(sandboxOptions);
  open.push(sandbox);
  const connector = createMastodonConnector({
    url: sandbox.url,
    accessToken: sandbox.accessToken,
    timeoutMs: 2_000,
    ...connectorOptions,
  });
  return { sandbox, connector };
}

let counter = 0;
const tagged = (sandbox: MastodonSandbox, text = 'help') =>
  sandbox.addPost({ text: `#${TAG} ${text} ${++counter}`, author: { handle: `user${counter % 5}` } });

const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('describeInstance', () => {
  it('reports the domain, version, reply limit and what search can do there', async () => {
    const { connector } = await world({ version: '4.3.1', maxCharacters: 1000 });
    expect(await connector.describeInstance?.()).toEqual({
      platform: 'mastodon',
      domain: 'mastodon.example',
      version: '4.3.1',
      maxCharacters: 1000,
      search: { fullText: 'unknown', idBoundsRefused: true },
      hashtagTimelines: null,
    });
  });

  it.each([
    ['4.5.0', false],
    ['4.3.2', false],
    ['4.3.0+glitch', true],
    ['4.2.13', false],
  ])('knows version %s refuses search id bounds: %s', async (version, refused) => {
    const { connector } = await world({ version });
    expect((await connector.describeInstance?.())?.search.idBoundsRefused).toBe(refused);
  });
});

describe('polling: late-federated posts', () => {
  const MINUTE = 60_000;
  const late = (sandbox: MastodonSandbox, minutesAgo: number, text = 'late') =>
    sandbox.addPost({
      text: `#${TAG} ${text} ${++counter}`,
      author: { handle: 'yuki@big.example' },
      createdAt: new Date(Date.now() - minutesAgo * MINUTE),
    });
  const ids = (result: PollResult) => result.posts.map((p) => p.id);

  it('delivers a remote post that federated late and sorts below the cursor, exactly once', async () => {
    const { sandbox, connector } = await world();
    // The watch has been running: its first poll saw a post from ten minutes ago.
    late(sandbox, 10, 'earlier');
    tagged(sandbox, 'first');
    const first = await connector.poll(tagSource, null);
    const onTime = tagged(sandbox, 'on time');
    const first2 = await connector.poll(tagSource, first.cursor);
    expect(ids(first2)).toEqual([onTime]);
    // Created two minutes ago on a busy server, arriving only now: its id is below the cursor.
    const lateId = late(sandbox, 2);
    const fresh = tagged(sandbox, 'fresh');
    const second = await connector.poll(tagSource, first2.cursor);
    expect(ids(second).sort()).toEqual([lateId, fresh].sort());
    // Nothing twice: the re-read window holds only posts already handed on.
    const third = await connector.poll(tagSource, second.cursor);
    expect(third.posts).toEqual([]);
    expect(third.caughtUp).toBe(true);
  });

  it('does not re-deliver the first poll’s page, nor older history, on the next poll', async () => {
    const { sandbox, connector } = await world();
    for (let i = 0; i < 5; i++) late(sandbox, 10 - i, 'history');
    const first = await connector.poll(tagSource, null, { pageSize: 2 });
    expect(first.posts).toHaveLength(2);
    const second = await connector.poll(tagSource, first.cursor, { pageSize: 2 });
    expect(second.posts).toEqual([]);
  });

  it('leaves out posts later than the window (default 10 minutes)', async () => {
    const { sandbox, connector } = await world();
    tagged(sandbox, 'first');
    const first = await connector.poll(tagSource, null);
    late(sandbox, 30);
    const second = await connector.poll(tagSource, first.cursor);
    expect(second.posts).toEqual([]);
  });

  it('can be turned off (lateWindowMs: 0): one request when nothing is new', async () => {
    const { sandbox, connector } = await world({}, { lateWindowMs: 0 });
    tagged(sandbox, 'first');
    const first = await connector.poll(tagSource, null);
    late(sandbox, 2);
    const second = await connector.poll(tagSource, first.cursor);
    expect(second.posts).toEqual([]);
    expect(second.pages).toBe(1);
  });

  it('keeps every post once across a budget that runs out inside the re-read window', async () => {
    const { sandbox, connector } = await world();
    late(sandbox, 12, 'earlier');
    tagged(sandbox, 'first');
    let cursor = (await connector.poll(tagSource, null)).cursor;
    const delivered: string[] = [];
    const expected: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 7; i++) expected.push(tagged(sandbox, `r${round}`));
      expected.push(late(sandbox, 3 + round, `late${round}`));
      for (let poll = 0; poll < 20; poll++) {
        const result = await connector.poll(tagSource, cursor, { pageSize: 3, pageBudget: 2 });
        delivered.push(...ids(result));
        cursor = result.cursor;
        if (result.caughtUp) break;
      }
    }
    expect([...delivered].sort()).toEqual([...expected].sort());
    expect(new Set(delivered).size).toBe(delivered.length);
  });
});

describe('polling', () => {
  it('pages a burst of 100 forward with min_id: pageSize 10, budget 3 — every post once, oldest first', async () => {
    const { sandbox, connector } = await world();
    tagged(sandbox, 'before');
    const start = await connector.poll(tagSource, null, { pageSize: 10 });
    const burst = Array.from({ length: 100 }, () => tagged(sandbox, 'burst'));

    const polls: PollResult[] = [];
    let cursor = start.cursor;
    do {
      const result = await connector.poll(tagSource, cursor, { pageSize: 10, pageBudget: 3 });
      polls.push(result);
      cursor = result.cursor;
    } while (!polls[polls.length - 1]?.caughtUp && polls.length < 10);

    expect(polls.flatMap((p) => p.posts.map((post) => post.id))).toEqual(burst);
    expect(polls.map((p) => [p.posts.length, p.pages, p.caughtUp])).toEqual([
      [30, 3, false],
      [30, 3, false],
      [30, 3, false],
      // The 10th full page might have been the last: one more (empty) page tells.
      [10, 2, true],
    ]);
    expect(polls.every((p) => p.postsRead === p.posts.length)).toBe(true);
    // Each poll's posts are oldest first and the cursor only covers what was returned.
    const again = await connector.poll(tagSource, polls[1]?.cursor ?? null, { pageSize: 10, pageBudget: 1 });
    expect(again.posts[0]?.id).toBe(burst[60]);
  });

  it('takes only the newest page on the first poll (no backfill), then only what is new', async () => {
    const { sandbox, connector } = await world();
    const history = Array.from({ length: 25 }, () => tagged(sandbox, 'old'));
    const first = await connector.poll(tagSource, null, { pageSize: 10, pageBudget: 5 });
    expect(first.posts.map((p) => p.id)).toEqual(history.slice(15));
    expect(first.pages).toBe(1);
    expect(first.caughtUp).toBe(true);
    const fresh = [tagged(sandbox), tagged(sandbox)];
    const next = await connector.poll(tagSource, first.cursor, { pageSize: 10 });
    expect(next.posts.map((p) => p.id)).toEqual(fresh);
  });

  it.each([
    ['a hashtag', tagSource, (sandbox: MastodonSandbox, i: number) => tagged(sandbox, `burst ${i}`)],
    [
      'a search',
      searchSource,
      (sandbox: MastodonSandbox, i: number) =>
        sandbox.addPost({ text: `ブクログ落ちてる ${i}`, author: { handle: 'y' } }),
    ],
  ] as const)(
    '%s that never had a post: after an empty first poll, a burst bigger than a page is read whole',
    async (_, source, add) => {
      const { sandbox, connector } = await world();
      const empty = await connector.poll(source, null, { pageSize: 10 });
      expect(empty).toMatchObject({ posts: [], caughtUp: true, pages: 1 });
      expect(empty.cursor).not.toBeNull();
      const burst = Array.from({ length: 25 }, (_, i) => add(sandbox, i));
      const seen: string[] = [];
      let cursor = empty.cursor;
      for (let poll = 0; poll < 10; poll++) {
        const next = await connector.poll(source, cursor, { pageSize: 10, pageBudget: 2 });
        seen.push(...next.posts.map((p) => p.id));
        cursor = next.cursor;
        if (next.caughtUp) break;
      }
      expect([...seen].sort()).toEqual([...burst].sort());
      expect(new Set(seen).size).toBe(seen.length);
    },
  );

  it('reports the rate limit from the X-RateLimit-* headers', async () => {
    const { sandbox, connector } = await world({ rateLimit: { limit: 50, windowSeconds: 300 } });
    tagged(sandbox);
    const result = await connector.poll(tagSource, null);
    expect(result.rateLimit?.limit).toBe(50);
    expect(result.rateLimit?.remaining).toBe(49);
    expect(result.rateLimit?.resetAt.getTime()).toBeGreaterThan(Date.now());
    expect(result.rateLimit?.resetAt.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('normalises Mastodon HTML end to end: links in full, remote mentions, hashtags, a content warning', async () => {
    const { sandbox, connector } = await world();
    sandbox.addPost({ text: 'hi', author: { handle: 'bob@remote.example' } });
    const id = sandbox.addPost({
      text: `#Brand のアプリ、@bob@remote.example と同じく落ちます\n詳細: https://status.example.com/incidents/2026-11-24/login-failure?lang=ja&ref=mastodon 😭\n\n&lt;本当に&gt;困ってます`,
      author: { handle: 'yuki', name: 'ゆき', followers: 42, protected: true },
      lang: 'ja',
      spoilerText: 'ブランド名の不具合',
    });
    const { posts } = await connector.poll(tagSource, null);
    const post = posts.find((p) => p.id === id);
    expect(post).toEqual({
      platform: 'mastodon',
      id,
      url: `https://mastodon.example/@yuki/${id}`,
      author: { id: expect.any(String), handle: 'yuki', displayName: 'ゆき', followers: 42, protected: true },
      text:
        'ブランド名の不具合\n\n#Brand のアプリ、@bob@remote.example と同じく落ちます\n' +
        '詳細: https://status.example.com/incidents/2026-11-24/login-failure?lang=ja&ref=mastodon 😭\n\n' +
        '&lt;本当に&gt;困ってます',
      lang: 'ja',
      createdAt: expect.stringMatching(/Z$/u),
      repostOf: null,
      inReplyTo: null,
      conversationId: null,
      hashtags: ['brand'],
      mentions: ['bob@remote.example'],
    } satisfies Post);
  });

  it('turns a reblog into a post by the booster with the original text and repostOf', async () => {
    const { sandbox, connector } = await world({ reblogsInTagTimelines: true });
    const original = sandbox.addPost({ text: `#${TAG} 障害ですか？`, author: { handle: 'alice' } });
    const reblog = sandbox.addPost({
      text: '',
      author: { handle: 'booster@remote.example' },
      repostOf: original,
    });
    const { posts } = await connector.poll(tagSource, null);
    expect(posts.map((p) => p.id)).toEqual([original, reblog]);
    expect(posts[1]).toMatchObject({
      repostOf: original,
      text: `#${TAG} 障害ですか？`,
      author: { handle: 'booster@remote.example' },
      hashtags: [TAG],
    });
    // A remote reblog has no url: its activity URI stands in.
    expect(posts[1]?.url).toMatch(/\/activity$/u);
    expect(posts[0]?.repostOf).toBeNull();
  });

  it('rejects statuses it cannot read, naming the field, and still delivers the rest', async () => {
    const { sandbox, connector } = await world();
    const good = tagged(sandbox);
    const start = await connector.poll(tagSource, null);
    const valid = sandbox.statuses().find((s) => s.id === good);
    // A page with a status that lacks its account's acct, served through a fault with a body.
    const broken = { ...valid, id: `${BigInt(good) + 1n}`, account: { ...valid?.account, acct: undefined } };
    const later = { ...valid, id: `${BigInt(good) + 2n}` };
    sandbox.faults.inject({
      path: '/api/v1/timelines',
      fault: { kind: 'status', status: 200, body: [later, broken] },
    });
    const result = await connector.poll(tagSource, start.cursor);
    expect(result.posts.map((p) => p.id)).toEqual([later.id]);
    expect(result.rejected).toEqual([{ id: broken.id, reason: expect.stringContaining('account.acct') }]);
    expect(decodeURIComponent(result.cursor ?? '')).toContain(later.id);
  });

  it('reads mentions through notifications, paging by notification id', async () => {
    const { sandbox, connector } = await world();
    sandbox.addPost({ text: '@kikimimi_support 前の質問', author: { handle: 'old' } });
    const first = await connector.poll(mentionsSource, null);
    expect(first.posts.map((p) => p.text)).toEqual(['@kikimimi_support 前の質問']);
    tagged(sandbox, 'not a mention');
    const asked = [
      sandbox.addPost({ text: '@kikimimi_support ログインできない', author: { handle: 'a' } }),
      sandbox.addPost({
        text: 'ねえ @kikimimi_support@mastodon.example',
        author: { handle: 'b@remote.example' },
      }),
    ];
    const burst = Array.from({ length: 12 }, (_, i) =>
      sandbox.addPost({ text: `@kikimimi_support ${i}`, author: { handle: 'c' } }),
    );
    const next = await connector.poll(mentionsSource, first.cursor, { pageSize: 5, pageBudget: 2 });
    expect(next.posts.map((p) => p.id)).toEqual([...asked, ...burst].slice(0, 10));
    expect(next.caughtUp).toBe(false);
    const rest = await connector.poll(mentionsSource, next.cursor, { pageSize: 5, pageBudget: 2 });
    expect(rest.posts.map((p) => p.id)).toEqual(burst.slice(8));
    expect(rest.caughtUp).toBe(true);
    expect(next.posts[1]?.mentions).toEqual(['kikimimi_support']);
  });

  it('walks search results newest to oldest across polls, then moves the cursor — each match once', async () => {
    const { sandbox, connector } = await world();
    sandbox.addPost({ text: 'ブクログ 古い投稿', author: { handle: 'x' } });
    const start = await connector.poll(searchSource, null, { pageSize: 10 });
    expect(start.posts).toHaveLength(1);
    const burst = Array.from({ length: 25 }, (_, i) =>
      sandbox.addPost({ text: `ブクログ落ちてる ${i}`, author: { handle: 'y' } }),
    );
    sandbox.addPost({ text: 'unrelated', author: { handle: 'z' } });

    const one = await connector.poll(searchSource, start.cursor, { pageSize: 10, pageBudget: 2 });
    expect(one.posts.map((p) => p.id)).toEqual(burst.slice(5));
    expect(one.caughtUp).toBe(false);
    // Matches that arrive during the walk wait until it meets the cursor.
    const during = sandbox.addPost({ text: 'ブクログ 途中で', author: { handle: 'w' } });
    const two = await connector.poll(searchSource, one.cursor, { pageSize: 10, pageBudget: 2 });
    expect(two.posts.map((p) => p.id)).toEqual(burst.slice(0, 5));
    expect(two.caughtUp).toBe(true);
    const three = await connector.poll(searchSource, two.cursor, { pageSize: 10, pageBudget: 2 });
    expect(three.posts.map((p) => p.id)).toEqual([during]);
    const idle = await connector.poll(searchSource, three.cursor, { pageSize: 10 });
    expect(idle.posts).toEqual([]);
  });

  it.each(['4.3.0', '4.3.1'])(
    'on Mastodon %s, whose search refuses min_id with 422, searches without it and filters itself',
    async (version) => {
      const { sandbox, connector } = await world({ version });
      sandbox.addPost({ text: 'ブクログ 古い投稿', author: { handle: 'x' } });
      const start = await connector.poll(searchSource, null, { pageSize: 10 });
      expect(start.posts).toHaveLength(1);
      const burst = Array.from({ length: 15 }, (_, i) =>
        sandbox.addPost({ text: `ブクログ落ちてる ${i}`, author: { handle: 'y' } }),
      );
      const one = await connector.poll(searchSource, start.cursor, { pageSize: 10, pageBudget: 5 });
      expect(one.posts.map((p) => p.id)).toEqual(burst);
      expect(one.caughtUp).toBe(true);
      const idle = await connector.poll(searchSource, one.cursor, { pageSize: 10 });
      expect(idle.posts).toEqual([]);
      // The refusal is remembered: no second 422 round trip on later polls.
      expect(idle.pages).toBe(1);
    },
  );

  it('refuses a cursor it did not make, as a PermanentError', async () => {
    const { connector } = await world();
    const error = await failureOf(connector.poll(tagSource, 'x:12345'));
    expect(error).toBeInstanceOf(PermanentError);
  });
});

describe('errors', () => {
  it('turns a 429 into RateLimitedError with the X-RateLimit-Reset of the response', async () => {
    const { sandbox, connector } = await world({ rateLimit: { limit: 1, windowSeconds: 120 } });
    await connector.poll(tagSource, null);
    const error = await failureOf(connector.poll(tagSource, null));
    expect(error).toBeInstanceOf(RateLimitedError);
    const windowEnd = Math.ceil(Date.now() / 120_000) * 120_000;
    expect((error as RateLimitedError).resetAt.getTime()).toBe(windowEnd);
    sandbox.resetRateLimit();
    sandbox.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 45 } });
    const faulted = (await failureOf(connector.poll(tagSource, null))) as RateLimitedError;
    expect(faulted.resetAt.getTime() - Date.now()).toBeGreaterThan(40_000);
    expect(faulted.resetAt.getTime() - Date.now()).toBeLessThanOrEqual(45_000);
  });

  it('falls back to five minutes when a 429 carries no reset', async () => {
    const { sandbox, connector } = await world();
    sandbox.faults.inject({ fault: { kind: 'status', status: 429, body: { error: 'Too many requests' } } });
    const error = (await failureOf(connector.poll(tagSource, null))) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.resetAt.getTime() - Date.now()).toBeGreaterThan(290_000);
  });

  it('turns 401 into AuthFailedError everywhere, without the token in the message', async () => {
    const { sandbox } = await world();
    const connector = createMastodonConnector({ url: sandbox.url, accessToken: 'revoked-secret-token' });
    for (const attempt of [
      connector.poll(tagSource, null),
      connector.verifyCredentials(),
      connector.reply({ postId: '1', url: 'https://m.example/1', authorHandle: 'a' }, 'x', {
        idempotencyKey: 'k',
      }),
    ]) {
      const error = await failureOf(attempt);
      expect(error).toBeInstanceOf(AuthFailedError);
      expect((error as Error).message).not.toContain('revoked-secret-token');
      expect((error as AuthFailedError).retryable).toBe(false);
    }
  });

  it('turns a 403 on verify into AuthFailedError', async () => {
    const { sandbox, connector } = await world();
    sandbox.faults.inject({
      fault: { kind: 'status', status: 403, body: { error: 'This action is outside the authorized scopes' } },
    });
    expect(await failureOf(connector.verifyCredentials())).toBeInstanceOf(AuthFailedError);
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const],
    ['a 502 with a JSON error', { kind: 'status', status: 502, body: { error: 'Bad gateway' } } as const],
    ['malformed JSON', { kind: 'malformed' } as const],
    ['a dropped connection', { kind: 'drop' } as const],
    ['a timeout', { kind: 'slow', delayMs: 3_000 } as const],
  ])('turns %s into a TransientError', async (_name, fault) => {
    const { sandbox, connector } = await world({}, { timeoutMs: 500 });
    sandbox.faults.inject({ fault });
    const error = await failureOf(connector.poll(tagSource, null));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryable).toBe(true);
  });

  it.each([
    ['poll', (c: Connector) => c.poll(tagSource, null)],
    ['instance', (c: Connector) => c.maxReplyLength()],
    ['verify', (c: Connector) => c.verifyCredentials()],
  ])('names the HTTP status and the instance for an HTML error page (%s)', async (_what, call) => {
    const { sandbox, connector } = await world();
    const page =
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
    sandbox.faults.inject({
      fault: { kind: 'status', status: 502, body: page, headers: { 'content-type': 'text/html' } },
    });
    const error = (await failureOf(call(connector))) as Error;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/HTTP 502/u);
    expect(error.message).toContain(sandbox.url);
    expect(error.message).not.toMatch(/destructure|undefined/u);
  });

  it('an HTML 404 page is permanent and says so', async () => {
    const { sandbox, connector } = await world();
    sandbox.faults.inject({
      fault: {
        kind: 'status',
        status: 404,
        body: '<html>Not Found</html>',
        headers: { 'content-type': 'text/html; charset=utf-8' },
      },
    });
    const error = (await failureOf(connector.poll(tagSource, null))) as Error;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/HTTP 404/u);
    expect(error.message).toContain(sandbox.url);
  });

  it('turns a body that is valid JSON but not a status list into a TransientError', async () => {
    const { sandbox, connector } = await world();
    sandbox.faults.inject({ fault: { kind: 'status', status: 200, body: { unexpected: true } } });
    expect(await failureOf(connector.poll(tagSource, null))).toBeInstanceOf(TransientError);
  });
});

describe('replying', () => {
  const targetIn = async (sandbox: MastodonSandbox, connector: Connector, handle = 'alice') => {
    const id = sandbox.addPost({ text: `#${TAG} 助けて`, author: { handle } });
    const { posts } = await connector.poll(tagSource, null);
    const post = posts.find((p) => p.id === id);
    if (post === undefined) throw new Error('not polled');
    return { postId: post.id, url: post.url, authorHandle: post.author.handle };
  };

  it('replies with the author mentioned, unlisted by default, and returns id and url', async () => {
    const { sandbox, connector } = await world();
    const target = await targetIn(sandbox, connector);
    const result = await connector.reply(target, 'ご不便をおかけしています。', { idempotencyKey: 'r1' });
    expect(sandbox.replies()).toEqual([
      expect.objectContaining({
        id: result.id,
        inReplyTo: target.postId,
        text: '@alice ご不便をおかけしています。',
        idempotencyKey: 'r1',
        visibility: 'unlisted',
      }),
    ]);
    expect(result.url).toBe(`https://mastodon.example/@kikimimi_support/${result.id}`);
  });

  it('never sends a reply whose mention would be built from an invalid handle', async () => {
    const { sandbox, connector } = await world();
    const target = await targetIn(sandbox, connector);
    const error = await connector
      .reply({ ...target, authorHandle: 'victim1 @bystander@mastodon.social' }, 'お知らせです', {
        idempotencyKey: 'bad',
      })
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error?.message).toMatch(/not a valid handle/u);
    expect(sandbox.replies()).toEqual([]);
  });

  it('does not mention twice, mentions remote authors in full, and takes the visibility asked for', async () => {
    const { sandbox, connector } = await world({}, { visibility: 'public' });
    const target = await targetIn(sandbox, connector, 'bob@remote.example');
    await connector.reply(target, '@bob@remote.example already there', { idempotencyKey: 'a' });
    await connector.reply(target, 'plain', { idempotencyKey: 'b', visibility: 'direct' });
    await connector.reply(target, 'plain again', { idempotencyKey: 'c' });
    expect(sandbox.replies().map((r) => [r.text, r.visibility])).toEqual([
      ['@bob@remote.example already there', 'public'],
      ['@bob@remote.example plain', 'direct'],
      ['@bob@remote.example plain again', 'public'],
    ]);
  });

  it('sends the Idempotency-Key: a retry gets the same status back and nothing is posted twice', async () => {
    const { sandbox, connector } = await world();
    const target = await targetIn(sandbox, connector);
    const first = await connector.reply(target, 'ありがとうございます', { idempotencyKey: 'same' });
    const retry = await connector.reply(target, 'ありがとうございます', { idempotencyKey: 'same' });
    expect(retry).toEqual(first);
    expect(sandbox.replies()).toHaveLength(1);
  });

  it('maps refusals: 403 → ReplyNotAllowedError (with the post to open), 404 and 422 → PermanentError', async () => {
    const { sandbox, connector } = await world();
    const target = await targetIn(sandbox, connector);
    sandbox.setReplyRestricted(true);
    const refused = await failureOf(connector.reply(target, 'x', { idempotencyKey: '1' }));
    expect(refused).toBeInstanceOf(ReplyNotAllowedError);
    expect((refused as ReplyNotAllowedError).manualUrl).toBe(target.url);
    sandbox.setReplyRestricted(false);

    const gone = await failureOf(connector.reply({ ...target, postId: '42' }, 'x', { idempotencyKey: '2' }));
    expect(gone).toBeInstanceOf(PermanentError);
    expect((gone as Error).message).toContain('no longer exists or is not visible');

    sandbox.setMaxCharacters(20);
    const tooLong = await failureOf(connector.reply(target, 'x'.repeat(30), { idempotencyKey: '3' }));
    expect(tooLong).toBeInstanceOf(PermanentError);
    expect((tooLong as Error).message).toContain('character limit of 20 exceeded');
    expect(sandbox.replies()).toEqual([]);
  });
});

describe('account and instance', () => {
  it('verifies credentials as the account', async () => {
    const { connector } = await world({
      account: { id: '7', username: 'brand_help', display_name: 'Brand Help' },
    });
    expect(await connector.verifyCredentials()).toEqual({
      platform: 'mastodon',
      id: '7',
      handle: 'brand_help',
      displayName: 'Brand Help',
    });
  });

  it('reads maxReplyLength from /api/v2/instance once and caches it', async () => {
    const { sandbox, connector } = await world({ maxCharacters: 1000 });
    expect(await connector.maxReplyLength()).toBe(1000);
    sandbox.setMaxCharacters(800);
    expect(await connector.maxReplyLength()).toBe(1000);
    expect(sandbox.requestCount('/api/v2/instance')).toBe(1);
  });

  it('does not cache a failure', async () => {
    const { sandbox, connector } = await world();
    sandbox.faults.inject({ path: '/api/v2/instance', fault: { kind: 'status', status: 503 } });
    expect(await failureOf(connector.maxReplyLength())).toBeInstanceOf(TransientError);
    expect(await connector.maxReplyLength()).toBe(500);
  });
});

describe('streaming', () => {
  const until = async (condition: () => boolean, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('delivers posts, skips malformed frames, reconnects after dropStreams and stops on abort', async () => {
    const { sandbox, connector } = await world(
      {},
      { reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, healthyAfterMs: 30_000 } },
    );
    const controller = new AbortController();
    const states: string[] = [];
    const iterator = connector
      .stream?.(streamSource, { signal: controller.signal, onState: (s) => states.push(s) })
      [Symbol.asyncIterator]();
    if (iterator === undefined) throw new Error('no stream');
    // Iteration has begun: the socket opens before the first next().
    await until(() => states.includes('open'));
    sandbox.addPost({ text: '#other not for us', author: { handle: 'o' } });
    sandbox.sendStreamFrame('not json');
    sandbox.sendStreamFrame(JSON.stringify({ stream: ['hashtag', TAG], event: 'update', payload: '{"id":' }));
    sandbox.sendStreamFrame(JSON.stringify({ stream: ['hashtag', TAG], event: 'filters_changed' }));
    sandbox.sendStreamFrame(JSON.stringify({ stream: ['hashtag', TAG], event: 'delete', payload: '123' }));
    expect((await iterator.next()).value).toEqual({ kind: 'delete', platform: 'mastodon', postId: '123' });
    const first = tagged(sandbox, 'streamed');
    expect((await iterator.next()).value).toMatchObject({ kind: 'post', post: { id: first } });

    sandbox.dropStreams();
    await until(() => states.filter((s) => s === 'open').length === 2);
    expect(states.slice(0, 4)).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    const second = tagged(sandbox, 'after the drop');
    expect((await iterator.next()).value).toMatchObject({ kind: 'post', post: { id: second } });

    controller.abort();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(states[states.length - 1]).toBe('closed');
    await until(() => sandbox.streamConnections === 0);
  });

  it('yields an edit with the post as it now reads and a deletion with the post id', async () => {
    const { sandbox, connector } = await world();
    const controller = new AbortController();
    const states: string[] = [];
    const iterator = connector
      .stream?.(streamSource, { signal: controller.signal, onState: (s) => states.push(s) })
      [Symbol.asyncIterator]();
    if (iterator === undefined) throw new Error('no stream');
    await until(() => states.includes('open'));
    const id = tagged(sandbox, 'the app is slow');
    sandbox.editPost(id, { text: `#${TAG} the app crashes now` });
    sandbox.deletePost(id);
    // A delete frame whose payload is not an id is skipped, not yielded.
    sandbox.sendStreamFrame(JSON.stringify({ stream: ['hashtag', TAG], event: 'delete', payload: '' }));
    expect((await iterator.next()).value).toMatchObject({
      kind: 'post',
      post: { id, text: expect.stringContaining('slow') },
    });
    const edit = (await iterator.next()).value;
    expect(edit).toMatchObject({ kind: 'edit', post: { id, text: expect.stringContaining('crashes now') } });
    expect((await iterator.next()).value).toEqual({ kind: 'delete', platform: 'mastodon', postId: id });
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });

  it('stops when the consumer breaks out of the loop', async () => {
    const { sandbox, connector } = await world();
    const states: string[] = [];
    const stream = connector.stream?.(streamSource, {
      signal: new AbortController().signal,
      onState: (s) => states.push(s),
    });
    if (stream === undefined) throw new Error('no stream');
    const posted = (async () => {
      await until(() => states.includes('open'));
      tagged(sandbox, 'once');
    })();
    for await (const event of stream) {
      expect(event.kind === 'post' && event.post.text).toContain('once');
      break;
    }
    await posted;
    expect(states[states.length - 1]).toBe('closed');
    await until(() => sandbox.streamConnections === 0);
  });

  it('ends with AuthFailedError when the token is refused instead of retrying forever', async () => {
    const { sandbox } = await world();
    const connector = createMastodonConnector({ url: sandbox.url, accessToken: 'wrong' });
    const iterator = connector
      .stream?.(streamSource, { signal: new AbortController().signal })
      [Symbol.asyncIterator]();
    expect(await failureOf(iterator?.next() ?? Promise.resolve())).toBeInstanceOf(AuthFailedError);
  });

  it('finds the streaming server in /api/v2/instance when not told', async () => {
    const { sandbox, connector } = await world();
    const states: string[] = [];
    const controller = new AbortController();
    const iterator = connector
      .stream?.(streamSource, { signal: controller.signal, onState: (s) => states.push(s) })
      [Symbol.asyncIterator]();
    await until(() => states.includes('open'));
    expect(sandbox.requestCount('/api/v2/instance')).toBe(1);
    controller.abort();
    await iterator?.return?.();
  });

  it.each([
    [0, 500, 1_000],
    [1, 1_000, 2_000],
    [4, 8_000, 16_000],
    [5, 15_000, 30_000],
    [20, 15_000, 30_000],
  ])('backs off exponentially with jitter, capped at 30 s (failure %i: %i–%i ms)', (failures, low, high) => {
    const policy = { initialDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 30_000 };
    expect(reconnectDelay(failures, policy, () => 0)).toBe(low);
    expect(reconnectDelay(failures, policy, () => 1)).toBe(high);
  });
});
