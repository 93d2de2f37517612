import type { Post } from '@kikimimi/rules';
import { startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthFailedError,
  PermanentError,
  RateLimitedError,
  ReplyNotAllowedError,
  TransientError,
} from '../errors.ts';
import type { Connector, PollOptions, PollResult, PollSource, ReplyTarget } from '../types.ts';
import replyNotAllowed from './fixtures/error-403-reply-not-allowed.json' with { type: 'json' };
import tooManyRequests from './fixtures/error-429-too-many-requests.json' with { type: 'json' };
import entitiesPage from './fixtures/search-recent-entities.json' with { type: 'json' };
import { createXConnector } from './x-connector.ts';
import { decodeCursor } from './x-cursor.ts';

/**
 * The X connector with the real twitter-api-v2 client against the X stand-in: no mocks, the same code
 * path as production with another base URL.
 */

const source: PollSource = { platform: 'x', kind: 'search', key: 'x:test', query: 'kikimimi' };

let x: XSandbox;
let connector: Connector;
let made = 0;

const connect = (token = x.bearerToken, timeoutMs = 3_000) =>
  createXConnector({ baseUrl: x.url, credentials: { kind: 'oauth2', accessToken: token }, timeoutMs });

const add = (text = 'help', handle = 'someone') =>
  x.addPost({ text: `kikimimi ${text} ${++made}`, author: { handle } });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );

/** Polls until caught up; every result, and the posts in the order they came. */
async function drain(cursor: string | null, options: PollOptions, between?: (poll: number) => void) {
  const results: PollResult[] = [];
  for (let poll = 0; poll < 200; poll++) {
    const result = await connector.poll(source, cursor, options);
    results.push(result);
    cursor = result.cursor;
    if (result.caughtUp) return { results, cursor, posts: results.flatMap((r) => r.posts) };
    between?.(poll);
  }
  throw new Error('never caught up');
}

async function targetFor(id: string): Promise<ReplyTarget> {
  const { posts } = await drain(null, {});
  const post = posts.find((p) => p.id === id);
  if (post === undefined) throw new Error(`post ${id} not polled`);
  return { postId: post.id, url: post.url, authorHandle: post.author.handle };
}

beforeEach(async () => {
  x = await startXSandbox();
  connector = connect();
});
afterEach(async () => {
  await x.close();
});

describe('poll: cursor', () => {
  it('asks only for posts after the cursor (since_id), one request when nothing is pending', async () => {
    const first = [add(), add(), add()];
    const one = await connector.poll(source, null);
    expect(one.posts.map((p) => p.id)).toEqual(first);
    expect(one).toMatchObject({ caughtUp: true, pages: 1, postsRead: 3, rejected: [] });
    expect(decodeCursor(one.cursor)).toEqual({ sinceId: first[2], bounds: [] });

    const later = [add(), add()];
    const two = await connector.poll(source, one.cursor);
    expect(two.posts.map((p) => p.id)).toEqual(later);
    expect(two.postsRead).toBe(2);
    expect(x.requestCount('/2/tweets/search/recent')).toBe(2);
  });

  it('a first poll that finds nothing listens from then on: a burst bigger than a page is read whole', async () => {
    const result = await connector.poll(source, null);
    expect(result).toMatchObject({ posts: [], caughtUp: true, pages: 1, postsRead: 0 });
    expect(decodeCursor(result.cursor).sinceId).not.toBeNull();
    const burst = Array.from({ length: 25 }, () => add('after an empty first poll'));
    const { posts } = await drain(result.cursor, { pageSize: 10, pageBudget: 5 });
    expect(posts.map((p) => p.id)).toEqual(burst);
  });

  it('starts from now: a first poll reads only the newest page, not the seven-day window', async () => {
    const old = Array.from({ length: 30 }, () => add('old'));
    const first = await connector.poll(source, null, { pageSize: 10, pageBudget: 5 });
    expect(first.posts.map((p) => p.id)).toEqual(old.slice(-10));
    expect(first).toMatchObject({ caughtUp: true, pages: 1, postsRead: 10 });
    const next = await connector.poll(source, first.cursor, { pageSize: 10 });
    expect(next.posts).toEqual([]);
  });

  it('reads a burst within the budget in one poll, oldest first', async () => {
    add('seed');
    const start = await connector.poll(source, null);
    const burst = Array.from({ length: 250 }, () => add('burst'));
    const result = await connector.poll(source, start.cursor);
    expect(result.posts.map((p) => p.id)).toEqual(burst);
    expect(result).toMatchObject({ caughtUp: true, pages: 3, postsRead: 250 });
  });

  it('delivers a burst larger than budget × page over several polls: every post once, in order', async () => {
    add('seed');
    const start = await connector.poll(source, null);
    const burst = Array.from({ length: 250 }, () => add('burst'));
    const { results, posts } = await drain(start.cursor, { pageSize: 10, pageBudget: 3 });
    expect(posts.map((p) => p.id)).toEqual(burst);
    expect(results.length).toBeGreaterThan(250 / 30);
    for (const result of results) expect(result.pages).toBeLessThanOrEqual(3);
    expect(results.slice(0, -1).every((r) => !r.caughtUp)).toBe(true);
    // The first polls read down into the burst and hand nothing on until they reach its bottom.
    expect(results[0]?.posts).toEqual([]);
    expect(decodeCursor(results[0]?.cursor ?? null).bounds.length).toBeGreaterThan(0);
  });

  it('keeps order when new posts arrive while a burst is still being read', async () => {
    add('seed');
    const start = await connector.poll(source, null);
    const burst = Array.from({ length: 60 }, () => add('burst'));
    const arriving: string[] = [];
    const { posts } = await drain(start.cursor, { pageSize: 10, pageBudget: 2 }, (poll) => {
      if (poll < 4) arriving.push(add('late'));
    });
    expect(posts.map((p) => p.id)).toEqual([...burst, ...arriving]);
  });

  it('stops on a 429 in the middle of a poll without losing its place, and goes on after the reset', async () => {
    await x.close();
    x = await startXSandbox({ rateLimit: { limit: 2, windowSeconds: 900 } });
    connector = connect();
    add('seed');
    const start = await connector.poll(source, null, { pageSize: 10 });
    x.resetRateLimit();
    const burst = Array.from({ length: 45 }, () => add('burst'));
    const stopped = await connector.poll(source, start.cursor, { pageSize: 10, pageBudget: 5 });
    // Two pages read, the third refused: no error, but no post handed on either (the burst's bottom
    // was not reached), and the rate limit says when to come back.
    expect(stopped).toMatchObject({ posts: [], caughtUp: false, pages: 2, postsRead: 20 });
    expect(stopped.rateLimit?.remaining).toBe(0);
    expect(stopped.rateLimit?.resetAt.getTime()).toBeGreaterThan(Date.now() + 800_000);
    await expect(connector.poll(source, stopped.cursor)).rejects.toBeInstanceOf(RateLimitedError);
    // Every later poll is cut short by the limit too (two requests a window); it still gets there.
    x.resetRateLimit();
    const { posts } = await drain(stopped.cursor, { pageSize: 10, pageBudget: 5 }, () => x.resetRateLimit());
    expect(posts.map((p) => p.id)).toEqual(burst);
  });

  it('takes a page that reaches the id right above the cursor as the bottom, even with a next_token', async () => {
    const a = add();
    const one = await connector.poll(source, null);
    const next = (BigInt(a) + 1n).toString();
    const body = {
      data: [{ id: next, text: 'kikimimi next', author_id: '5', created_at: '2026-11-02T00:00:00.000Z' }],
      includes: { users: [{ id: '5', username: 'five', name: 'Five' }] },
      meta: { result_count: 1, newest_id: next, oldest_id: next, next_token: 'more' },
    };
    x.faults.inject({ fault: { kind: 'status', status: 200, body } });
    const before = x.requestCount();
    const result = await connector.poll(source, one.cursor);
    expect(result.posts.map((p) => p.id)).toEqual([next]);
    expect(result.caughtUp).toBe(true);
    expect(x.requestCount() - before).toBe(1);
  });

  it('clamps the page size to what X accepts (10–100)', async () => {
    add();
    await expect(connector.poll(source, null, { pageSize: 5 })).resolves.toMatchObject({ caughtUp: true });
    await expect(connector.poll(source, null, { pageSize: 500 })).resolves.toMatchObject({ caughtUp: true });
  });

  it('refuses a cursor it cannot read, and a source of another platform', async () => {
    await expect(connector.poll(source, '{"v":9}')).rejects.toBeInstanceOf(PermanentError);
    const other: PollSource = { platform: 'mastodon', kind: 'hashtag', key: 'm', tag: 'x' };
    await expect(connector.poll(other, null)).rejects.toBeInstanceOf(PermanentError);
  });
});

describe('poll: normalisation', () => {
  it('expands t.co links, undoes X’s HTML escaping and maps the author from includes.users', async () => {
    const id = x.addPost({
      text: 'kikimimi Q&A: <login> fails, see https://help.example.com/faq?id=7&lang=ja #障害 @kikimimi_help',
      author: { handle: 'Tanaka_T', name: '田中', followers: 1234, protected: true },
      lang: 'ja',
      createdAt: '2026-11-02T09:30:00.000Z',
    });
    const stored = x.posts().find((t) => t.id === id);
    if (stored === undefined) throw new Error('not stored');
    expect(stored.text).toMatch(/https:\/\/t\.co\//);

    const [post] = (await connector.poll(source, null)).posts;
    expect(post).toEqual({
      platform: 'x',
      id,
      url: `https://x.com/Tanaka_T/status/${id}`,
      author: {
        id: stored.authorId,
        handle: 'Tanaka_T',
        displayName: '田中',
        followers: 1234,
        protected: true,
      },
      text: 'kikimimi Q&A: <login> fails, see https://help.example.com/faq?id=7&lang=ja #障害 @kikimimi_help',
      lang: 'ja',
      createdAt: '2026-11-02T09:30:00.000Z',
      repostOf: null,
      inReplyTo: null,
      conversationId: id,
      hashtags: ['障害'],
      mentions: ['kikimimi_help'],
    } satisfies Post);
  });

  it('gives reposts and replies the ids of the posts they refer to', async () => {
    const original = add('original', 'orig');
    const repost = x.addPost({ text: 'kikimimi original', author: { handle: 'rt' }, repostOf: original });
    const reply = x.addPost({ text: 'kikimimi me too', author: { handle: 're' }, inReplyTo: original });
    const byId = new Map((await connector.poll(source, null)).posts.map((p) => [p.id, p]));
    expect(byId.get(repost)).toMatchObject({
      repostOf: original,
      inReplyTo: null,
      text: 'RT @orig: kikimimi original',
    });
    expect(byId.get(reply)).toMatchObject({ repostOf: null, inReplyTo: original, conversationId: original });
    expect(byId.get(original)).toMatchObject({ repostOf: null, inReplyTo: null });
  });

  it('reads the whole text of a long post from note_tweet', async () => {
    const long = `kikimimi ${'長い投稿です。'.repeat(50)}`;
    x.addPost({ text: long, author: { handle: 'long' } });
    const [post] = (await connector.poll(source, null)).posts;
    expect(post?.text).toBe(long);
  });

  it('rejects a malformed post with the field at fault and keeps the rest of the page', async () => {
    const [bad, good] = entitiesPage.data;
    if (bad === undefined || good === undefined) throw new Error('fixture changed');
    const page = {
      ...entitiesPage,
      meta: { ...entitiesPage.meta, next_token: undefined },
      data: [
        { ...bad, author_id: undefined },
        { ...good, id: '1212092627178287000', author_id: '999' },
        { ...good, created_at: 'yesterday', id: '1212092627178286000' },
        good,
      ],
    };
    x.faults.inject({ fault: { kind: 'status', status: 200, body: page }, path: '/2/tweets/search/recent' });
    const result = await connector.poll(source, null);
    expect(result.posts.map((p) => p.id)).toEqual([good.id]);
    expect(result.postsRead).toBe(4);
    expect(result.rejected).toEqual([
      { id: '1212092628029698048', reason: expect.stringMatching(/^author_id: /) },
      { id: '1212092627178287000', reason: 'author_id: no user 999 in includes.users' },
      { id: '1212092627178286000', reason: expect.stringMatching(/^created_at: /) },
    ]);
    expect(result.caughtUp).toBe(true);
  });

  it('reads X’s documented sample page through the real client', async () => {
    x.faults.inject({
      fault: {
        kind: 'status',
        status: 200,
        body: { ...entitiesPage, meta: { ...entitiesPage.meta, next_token: undefined } },
      },
    });
    const result = await connector.poll(source, null);
    expect(result.posts.map((p) => p.id)).toEqual(['1212092627178287104', '1212092628029698048']);
    expect(result.posts[1]?.text).toMatch(
      / https:\/\/x\.com\/LovesNandos\/status\/1211797914437259264\/photo\/1$/,
    );
    expect(result.posts[0]?.author).toEqual({
      id: '2244994945',
      handle: 'TwitterDev',
      displayName: 'Twitter Dev',
      followers: 507902,
      protected: false,
    });
  });
});

describe('poll: a cursor older than X’s seven-day window', () => {
  const DAY = 24 * 60 * 60 * 1000;

  it('restarts inside the window instead of failing forever, and delivers what is new', async () => {
    // A quiet watch: its last post is eight days old, so X refuses it as since_id.
    const old = x.addPost({
      text: 'kikimimi quiet',
      author: { handle: 'a' },
      createdAt: new Date(Date.now() - 8 * DAY),
    });
    const fresh = [add('one'), add('two'), add('three')];
    const result = await connector.poll(source, old);
    expect(result.posts.map((p) => p.id)).toEqual(fresh);
    expect(result.caughtUp).toBe(true);
    expect(result.restarted).toMatchObject({ reason: expect.stringMatching(/since_id/) });
    const restartedFrom = (result.restarted as { from: Date }).from.getTime();
    expect(Math.abs(restartedFrom - (Date.now() - 7 * DAY))).toBeLessThan(10 * 60 * 1000);
    // The new cursor is inside the window: the next poll is one ordinary request.
    const before = x.requestCount('/2/tweets/search');
    const next = await connector.poll(source, result.cursor);
    expect(next.posts).toEqual([]);
    expect(next.restarted).toBeUndefined();
    expect(x.requestCount('/2/tweets/search') - before).toBe(1);
  });

  it('restarts a cursor with pending segments too', async () => {
    const old = x.addPost({
      text: 'kikimimi quiet',
      author: { handle: 'a' },
      createdAt: new Date(Date.now() - 9 * DAY),
    });
    const older = x.addPost({
      text: 'kikimimi quiet',
      author: { handle: 'a' },
      createdAt: new Date(Date.now() - 8 * DAY),
    });
    const fresh = add('new');
    const cursor = JSON.stringify({ v: 1, sinceId: old, bounds: [older] });
    const { posts } = await drain(cursor, {});
    expect(posts.map((p) => p.id)).toEqual([fresh]);
  });

  it('still fails on other 400s about since_id, with X’s message', async () => {
    const body = {
      errors: [
        { parameters: { since_id: ['1'] }, message: 'The `since_id` query parameter value [1] is not valid' },
      ],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    };
    x.faults.inject({ fault: { kind: 'status', status: 400, body }, times: 5 });
    const error = await failure(connector.poll(source, '1'));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/is not valid/);
  });
});

describe('reply: the 24-hour cap of the account', () => {
  it('a 429 with x-user-limit-24hour-remaining 0 waits for the 24-hour reset, saying it is the daily cap', async () => {
    await x.close();
    x = await startXSandbox({ userDailyPostLimit: 1 });
    connector = connect();
    const first = add('one');
    const second = add('two');
    const target = await targetFor(first);
    await connector.reply(target, 'お問い合わせありがとうございます', { idempotencyKey: 'k1' });
    const error = await failure(
      connector.reply({ ...target, postId: second }, '別の返信です', { idempotencyKey: 'k2' }),
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited.scope).toBe('user-24h');
    expect(Math.abs(limited.resetAt.getTime() - (Date.now() + 24 * 3600 * 1000))).toBeLessThan(10_000);
    expect(limited.message).toMatch(/24-hour/);
  });

  it('an ordinary 429 keeps the 15-minute window scope', async () => {
    x.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 600 } });
    const error = await failure(connector.poll(source, null));
    expect((error as RateLimitedError).scope).toBe('window');
  });
});

describe('errors', () => {
  it('turns a 429 into RateLimitedError with resetAt from x-rate-limit-reset', async () => {
    x.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 600 } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(Math.abs((error as RateLimitedError).resetAt.getTime() - (Date.now() + 600_000))).toBeLessThan(
      2_000,
    );
  });

  it('counts the window down and reports it, then fails with the window’s reset', async () => {
    await x.close();
    x = await startXSandbox({ rateLimit: { limit: 2, windowSeconds: 120 } });
    connector = connect();
    const one = await connector.poll(source, null);
    expect(one.rateLimit).toMatchObject({ limit: 2, remaining: 1 });
    const two = await connector.poll(source, null);
    expect(two.rateLimit?.remaining).toBe(0);
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toEqual(two.rateLimit?.resetAt);
  });

  it('waits a 15-minute window when a 429 comes without rate-limit headers', async () => {
    x.faults.inject({ fault: { kind: 'status', status: 429, body: tooManyRequests } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('treats a spent usage cap (a 429 too) as permanent', async () => {
    const body = {
      title: 'UsageCapExceeded',
      detail: 'Usage cap exceeded: Monthly product cap',
      type: 'https://api.x.com/2/problems/usage-capped',
    };
    x.faults.inject({ fault: { kind: 'status', status: 429, body } });
    expect(await failure(connector.poll(source, null))).toBeInstanceOf(PermanentError);
  });

  it('turns a 401 into AuthFailedError, for polls and for verifyCredentials', async () => {
    connector = connect('wrong-token-abcdef');
    const poll = await failure(connector.poll(source, null));
    expect(poll).toBeInstanceOf(AuthFailedError);
    expect(poll.message).toMatch(/401/);
    await expect(connector.verifyCredentials()).rejects.toBeInstanceOf(AuthFailedError);
  });

  it.each([500, 502, 503])('turns a %i into TransientError', async (status) => {
    x.faults.inject({ fault: { kind: 'status', status } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain(String(status));
  });

  it('turns a dropped connection into TransientError', async () => {
    x.faults.inject({ fault: { kind: 'drop' } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('turns a body that is not JSON into TransientError', async () => {
    x.faults.inject({ fault: { kind: 'malformed' } });
    expect(await failure(connector.poll(source, null))).toBeInstanceOf(TransientError);
  });

  it('turns a JSON body of the wrong shape into TransientError', async () => {
    x.faults.inject({ fault: { kind: 'status', status: 200, body: { data: 'nope' } } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/meta/);
  });

  it('turns a timeout into TransientError', async () => {
    connector = connect(x.bearerToken, 100);
    x.faults.inject({ fault: { kind: 'slow', delayMs: 400 } });
    const error = await failure(connector.poll(source, null));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/timeout/i);
  });

  it('turns another 4xx into PermanentError, keeping X’s errors[].message', async () => {
    const error = await failure(connector.poll({ ...source, query: 'a'.repeat(600) }, null));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/400.*Invalid Request/);
    expect(error.message).toMatch(/Query length exceeds the maximum of 512 characters/);
  });

  it('never puts a token or secret in an error message', async () => {
    const secrets = {
      appKey: 'consumer-key-1234567',
      appSecret: 'consumer-secret-abcdefgh',
      accessSecret: 'access-secret-zyxwvuts',
    };
    const messages: string[] = [];
    const collect = async (promise: Promise<unknown>) => messages.push((await failure(promise)).message);

    const oauth1 = createXConnector({
      baseUrl: x.url,
      credentials: { kind: 'oauth1', accessToken: 'access-token-not-valid', ...secrets },
    });
    await collect(oauth1.poll(source, null));
    await collect(oauth1.verifyCredentials());
    // A server that echoes the token back must not get it into our messages either.
    x.faults.inject({
      fault: { kind: 'status', status: 500, body: { title: 'Oops', detail: `bad token ${x.bearerToken}` } },
    });
    await collect(connector.poll(source, null));
    x.faults.inject({ fault: { kind: 'drop' } });
    await collect(connector.poll(source, null));
    x.faults.inject({ fault: { kind: 'status', status: 403, body: { detail: `no ${x.bearerToken}` } } });
    await collect(
      connector.reply({ postId: add(), url: '', authorHandle: 'someone' }, 'hello', { idempotencyKey: 'k' }),
    );

    expect(messages).toHaveLength(5);
    expect(messages[2]).toContain('[redacted]');
    for (const message of messages) {
      for (const secret of [...Object.values(secrets), 'access-token-not-valid', x.bearerToken]) {
        expect(message).not.toContain(secret);
      }
    }
  });
});

describe('verifyCredentials, oauth1, limits', () => {
  it('returns the account from /2/users/me', async () => {
    expect(await connector.verifyCredentials()).toEqual({
      platform: 'x',
      id: x.account.id,
      handle: x.account.username,
      displayName: x.account.name,
    });
    expect(await connector.maxReplyLength()).toBe(280);
  });

  it('signs with OAuth 1.0a when given consumer keys and an access token', async () => {
    const oauth1 = createXConnector({
      baseUrl: x.url,
      credentials: {
        kind: 'oauth1',
        appKey: 'k',
        appSecret: 's',
        accessToken: x.bearerToken,
        accessSecret: 'a',
      },
    });
    const id = add();
    expect((await oauth1.poll(source, null)).posts.map((p) => p.id)).toEqual([id]);
  });
});

describe('reply', () => {
  it('posts a reply and returns its id and URL on the account', async () => {
    const target = await targetFor(add('ログインできない'));
    const result = await connector.reply(target, 'ご不便をおかけしています。', { idempotencyKey: 'r-1' });
    expect(result).toEqual({
      id: expect.stringMatching(/^\d+$/),
      url: `https://x.com/${x.account.username}/status/${result.id}`,
    });
    expect(x.replies()).toMatchObject([
      { id: result.id, inReplyTo: target.postId, text: 'ご不便をおかけしています。' },
    ]);
  });

  it('when X refuses the reply, throws ReplyNotAllowedError with a composer link holding the reply', async () => {
    const target = await targetFor(add());
    x.setReplyRestricted(true);
    const text = 'ご案内です & 詳しくは https://help.example.com/a?b=1 をご覧ください #サポート';
    const error = await failure(connector.reply(target, text, { idempotencyKey: 'r-2' }));
    expect(error).toBeInstanceOf(ReplyNotAllowedError);
    const manual = new URL((error as ReplyNotAllowedError).manualUrl);
    expect(`${manual.origin}${manual.pathname}`).toBe('https://x.com/intent/post');
    expect(manual.searchParams.get('in_reply_to')).toBe(target.postId);
    expect(manual.searchParams.get('text')).toBe(text);
    expect((error as ReplyNotAllowedError).manualUrl).toBe(
      `https://x.com/intent/post?in_reply_to=${target.postId}&text=${encodeURIComponent(text)}`,
    );
    expect(error.message).toMatch(/not been mentioned/);
    expect(x.replies()).toHaveLength(0);
  });

  it('recognises the refusal whatever X’s wording (here its documented body, served as is)', async () => {
    const target = await targetFor(add());
    x.faults.inject({ fault: { kind: 'status', status: 403, body: replyNotAllowed }, method: 'POST' });
    expect(await failure(connector.reply(target, 'hi', { idempotencyKey: 'r-3' }))).toBeInstanceOf(
      ReplyNotAllowedError,
    );
  });

  it('allows the reply when the post mentions the account, even when restricted', async () => {
    x.setReplyRestricted(true);
    const target = await targetFor(add(`@${x.account.username} help`));
    await expect(connector.reply(target, 'Here to help', { idempotencyKey: 'r-4' })).resolves.toHaveProperty(
      'id',
    );
  });

  it('a retry after X refused it as duplicate returns the first reply (another process, same text)', async () => {
    const target = await targetFor(add());
    const first = await connector.reply(target, 'ありがとうございます！ https://help.example.com/x', {
      idempotencyKey: 'r-5',
    });
    const restarted = connect();
    const again = await restarted.reply(target, 'ありがとうございます！ https://help.example.com/x', {
      idempotencyKey: 'r-5',
    });
    expect(again).toEqual(first);
    expect(x.replies()).toHaveLength(1);
    expect(x.requestCount(`/2/users/${x.account.id}/tweets`)).toBe(1);
  });

  it('an announcement retried from another process after X refused it as duplicate returns the first post', async () => {
    const text = 'ただいまログインしづらい状況です。復旧までお待ちください https://status.example.com';
    const first = await connector.post(text, { idempotencyKey: 'a-1' });
    const again = await connect().post(text, { idempotencyKey: 'a-1' });
    expect(again).toEqual(first);
    expect(x.replies().filter((r) => r.inReplyTo === '')).toHaveLength(1);
  });

  it('never takes a reply of ours for the announcement X calls a duplicate of it', async () => {
    await x.close();
    x = await startXSandbox({ duplicates: 'account' });
    connector = connect();
    await connector.reply(await targetFor(add()), 'We are on it.', { idempotencyKey: 'r-11' });
    const error = await failure(connector.post('We are on it.', { idempotencyKey: 'a-2' }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/duplicate/);
  });

  it('a retry after a lost response returns the reply X did make, not a second one', async () => {
    const target = await targetFor(add());
    const impatient = connect(x.bearerToken, 150);
    await impatient.verifyCredentials();
    // The stand-in makes the reply at once but answers after the client gave up.
    x.delayReplyAnswers(400);
    const lost = await failure(impatient.reply(target, '確認いたします。', { idempotencyKey: 'r-6' }));
    expect(lost).toBeInstanceOf(TransientError);
    expect(x.replies()).toHaveLength(1);
    const retried = await impatient.reply(target, '確認いたします。', { idempotencyKey: 'r-6' });
    expect(retried.id).toBe(x.replies()[0]?.id);
    expect(x.replies()).toHaveLength(1);
  });

  it('the same key again in one process returns the first reply without asking X', async () => {
    const target = await targetFor(add());
    const first = await connector.reply(target, 'Thanks!', { idempotencyKey: 'r-7' });
    const before = x.requestCount();
    expect(await connector.reply(target, 'Thanks!', { idempotencyKey: 'r-7' })).toEqual(first);
    expect(x.requestCount()).toBe(before);
  });

  it('fails permanently when X calls it a duplicate but no earlier reply to that post has the text', async () => {
    await x.close();
    x = await startXSandbox({ duplicates: 'account' });
    connector = connect();
    const one = await targetFor(add());
    const two = await targetFor(add());
    await connector.reply(one, 'Thanks!', { idempotencyKey: 'r-8' });
    const error = await failure(connector.reply(two, 'Thanks!', { idempotencyKey: 'r-9' }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/duplicate/);
  });

  it('fails permanently for a deleted post and for a text over 280 weighted characters', async () => {
    const gone = await failure(
      connector.reply({ postId: '42', url: '', authorHandle: 'x' }, 'hi', { idempotencyKey: 'r-10' }),
    );
    expect(gone).toBeInstanceOf(PermanentError);
    expect(gone.message).toMatch(/deleted or not visible/);
    const before = x.requestCount('/2/tweets');
    const long = await failure(
      connector.reply({ postId: add(), url: '', authorHandle: 'x' }, 'あ'.repeat(141), {
        idempotencyKey: 'r-11',
      }),
    );
    expect(long).toBeInstanceOf(PermanentError);
    expect(x.requestCount('/2/tweets')).toBe(before);
  });

  it('treats a 5xx on reply as transient and a 401 as an auth failure', async () => {
    const target = await targetFor(add());
    await connector.verifyCredentials();
    x.faults.inject({ fault: { kind: 'status', status: 503 }, method: 'POST' });
    expect(await failure(connector.reply(target, 'a', { idempotencyKey: 'r-12' }))).toBeInstanceOf(
      TransientError,
    );
    x.faults.inject({
      fault: { kind: 'status', status: 401, body: { title: 'Unauthorized' } },
      method: 'POST',
    });
    expect(await failure(connector.reply(target, 'a', { idempotencyKey: 'r-12' }))).toBeInstanceOf(
      AuthFailedError,
    );
  });
});
