import { AtpAgent, lexicons, RichText, XRPCError } from '@atproto/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlueskySandbox, startBlueskySandbox } from './bluesky-sandbox.ts';
import { blueskyHandleFor, cidFor, didFor } from './ids.ts';

/*
 * The stand-in through @atproto/api's AtpAgent, the client the connector uses: the agent checks every
 * answer against the lexicons itself (XrpcClient.call asserts valid output), and the tests assert the
 * behaviour Bluesky's reference servers show (the answers quoted below were read from @atproto/dev-env's
 * PDS and AppView).
 */

let sandbox: BlueskySandbox;
let agent: AtpAgent;

beforeEach(async () => {
  sandbox = await startBlueskySandbox();
  agent = new AtpAgent({ service: sandbox.url });
  await agent.login({ identifier: sandbox.account.handle, password: sandbox.appPassword });
});
afterEach(async () => {
  await sandbox.close();
});

const failure = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof XRPCError)) throw new Error(`expected an XRPC error, got ${String(error)}`);
  return { status: error.status, error: error.error, message: error.message };
};

async function xrpc(nsid: string, init: { query?: string; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${sandbox.url}/xrpc/${nsid}${init.query ? `?${init.query}` : ''}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const post = (
  text: string,
  handle = 'alice',
  extra: Partial<Parameters<BlueskySandbox['addPost']>[0]> = {},
) => sandbox.addPost({ text, author: { handle }, ...extra });
const search = async (q: string, params: Record<string, unknown> = {}) =>
  (await agent.app.bsky.feed.searchPosts({ q, ...params })).data;
const uris = (posts: ReadonlyArray<{ uri: string }>) => posts.map((p) => p.uri);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('identifiers', () => {
  it('computes a record CID as the reference PDS does (DAG-CBOR, sha-256)', () => {
    // The CID @atproto/dev-env's PDS returned for this record from createRecord.
    const record = { $type: 'app.bsky.feed.post', text: 'hi', createdAt: '2026-12-05T04:52:28.617Z' };
    expect(cidFor(record)).toBe('bafyreifchonmsqgwxztstagwmouwudsfofpvmilba3s6m3gonjpjn62y4e');
  });

  it('turns names from other platforms into handles, and keeps handles', () => {
    expect(blueskyHandleFor('shiorinote_jp')).toBe('shiorinote-jp.bsky.social');
    expect(blueskyHandleFor('@Alice.Example.COM')).toBe('alice.example.com');
    expect(blueskyHandleFor('読書家', 'example.org')).toBe('user.example.org');
    expect(didFor('alice.bsky.social')).toMatch(/^did:plc:[a-z2-7]{24}$/u);
  });
});

describe('sessions', () => {
  it('signs in with the handle and the app password; the session names the stand-in as the PDS', async () => {
    expect(agent.session).toMatchObject({ did: sandbox.account.did, handle: 'kikimimi-support.bsky.social' });
    const session = (await agent.com.atproto.server.getSession()).data;
    expect(session).toMatchObject({ did: sandbox.account.did, active: true });
    expect(agent.pdsUrl?.toString()).toBe(`${sandbox.url}/`);
    const claims = JSON.parse(
      Buffer.from(agent.session?.accessJwt.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      scope: 'com.atproto.appPass',
      sub: sandbox.account.did,
      aud: 'did:web:127.0.0.1',
    });
    const byDid = new AtpAgent({ service: sandbox.url });
    await byDid.login({ identifier: sandbox.account.did, password: sandbox.appPassword });
    expect(byDid.session?.did).toBe(sandbox.account.did);
  });

  it('refuses a wrong password as the PDS does, and an access token where the refresh token belongs', async () => {
    const other = new AtpAgent({ service: sandbox.url });
    expect(
      await failure(other.login({ identifier: sandbox.account.handle, password: 'abcd-efgh-ijkl-mnop' })),
    ).toEqual({
      status: 401,
      error: 'AuthenticationRequired',
      message: 'Invalid identifier or password',
    });
    const refresh = await xrpc('com.atproto.server.refreshSession', {
      body: {},
      token: agent.session?.accessJwt ?? '',
    });
    expect(refresh).toMatchObject({
      status: 400,
      body: { error: 'InvalidToken', message: 'Token could not be verified' },
    });
    const missing = await xrpc('app.bsky.notification.listNotifications');
    expect(missing).toMatchObject({
      status: 401,
      body: { error: 'AuthMissing', message: 'Authentication Required' },
    });
  });

  it('answers an expired access token with ExpiredToken; the agent refreshes the session by itself', async () => {
    await sandbox.close();
    sandbox = await startBlueskySandbox({ accessTokenTtlSeconds: 2 });
    agent = new AtpAgent({ service: sandbox.url });
    await agent.login({ identifier: sandbox.account.handle, password: sandbox.appPassword });
    const first = agent.session?.accessJwt ?? '';
    await sleep(2_100);
    const expired = await xrpc('app.bsky.notification.listNotifications', { token: first });
    expect(expired).toMatchObject({
      status: 400,
      body: { error: 'ExpiredToken', message: 'Token has expired' },
    });
    await agent.app.bsky.notification.listNotifications({});
    expect(agent.session?.accessJwt).not.toBe(first);
    expect(sandbox.requestCount('/xrpc/com.atproto.server.refreshSession')).toBe(1);
  });

  it('limits sign-ins to 30 per 5 minutes per handle (429 with the rate-limit headers)', async () => {
    for (let i = 0; i < 29; i++) {
      const other = new AtpAgent({ service: sandbox.url });
      await other.login({ identifier: sandbox.account.handle, password: sandbox.appPassword });
    }
    const over = await xrpc('com.atproto.server.createSession', {
      body: { identifier: sandbox.account.handle, password: sandbox.appPassword },
    });
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' });
    expect(over.headers.get('ratelimit-policy')).toBe('30;w=300');
    // The window began at the first of the 30 sign-ins: most of its 300 s are still ahead.
    expect(Number(over.headers.get('ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 + 240);
  });
});

describe('searchPosts', () => {
  it('pages newest first with an offset cursor, as Bluesky search does', async () => {
    const made = Array.from({ length: 5 }, (_, i) => post(`shiorinote page ${i}`));
    post('something else');
    const first = await search('shiorinote', { limit: 2 });
    expect(uris(first.posts)).toEqual([made[4], made[3]]);
    expect(first.cursor).toBe('2');
    const second = await search('shiorinote', { limit: 2, cursor: first.cursor });
    expect(uris(second.posts)).toEqual([made[2], made[1]]);
    const third = await search('shiorinote', { limit: 2, cursor: second.cursor });
    expect(uris(third.posts)).toEqual([made[0]]);
    expect(third.cursor).toBeUndefined();
    expect(third.hitsTotal).toBe(5);
    // A new post shifts the offsets towards the newer end: the next page repeats, never skips.
    post('shiorinote page 5');
    const shifted = await search('shiorinote', { limit: 2, cursor: '2' });
    expect(uris(shifted.posts)).toEqual([made[3], made[2]]);
  });

  it('filters by since (inclusive) and until (exclusive) on the sort time, the earlier of createdAt and indexedAt', async () => {
    const old = post('kkwindow old', 'alice', { createdAt: '2026-01-01T00:00:00.000Z' });
    const mid = post('kkwindow mid', 'alice', { createdAt: '2026-01-02T00:00:00.000Z' });
    // Claims a future time: sorted by when it was indexed instead.
    const future = post('kkwindow future', 'alice', { createdAt: '2099-01-01T00:00:00.000Z' });
    expect(uris((await search('kkwindow', { since: '2026-01-02T00:00:00.000Z' })).posts)).toEqual([
      future,
      mid,
    ]);
    expect(uris((await search('kkwindow', { until: '2026-01-02T00:00:00.000Z' })).posts)).toEqual([old]);
    expect(uris((await search('kkwindow since:2026-01-02 until:2026-01-03')).posts)).toEqual([mid]);
    const view = (await search('kkwindow future')).posts[0];
    expect(view?.indexedAt).not.toBe('2099-01-01T00:00:00.000Z');
  });

  it('reads the query as the search service does: words and phrases all must occur, -word, #tag, from:, mentions:, lang:, domain:', async () => {
    const a = post('しおりノートのログインができない #不具合', 'hana', { lang: 'ja' });
    const b = post(
      'Shiori Note sync broke again @kikimimi-support.bsky.social https://status.example.com/x',
      'ken',
      {
        lang: 'en',
      },
    );
    const c = post('shiori notes are great', 'ken', { lang: 'en' });
    expect(uris((await search('しおりノート')).posts)).toEqual([a]);
    expect(uris((await search('"shiori note"')).posts)).toEqual([b]);
    expect(uris((await search('shiori -sync')).posts)).toEqual([c]);
    expect(uris((await search('#不具合')).posts)).toEqual([a]);
    expect(uris((await search('shiori from:ken.bsky.social')).posts)).toEqual([c, b]);
    expect(uris((await search('mentions:kikimimi-support.bsky.social')).posts)).toEqual([b]);
    expect(uris((await search('@kikimimi-support.bsky.social')).posts)).toEqual([b]);
    expect(uris((await search('shiori lang:en')).posts)).toEqual([c, b]);
    expect(uris((await search('shiori', { lang: 'ja' })).posts)).toEqual([]);
    expect(uris((await search('domain:status.example.com')).posts)).toEqual([b]);
    // A handle that is not one is dropped from the query (palomar's parse_query.go): here nothing is
    // left, which finds every post.
    expect(uris((await search('mentions:kikimimi_support')).posts)).toEqual([c, b, a]);
    // "@word" that is no handle stays a word.
    expect(uris((await search('@kikimimi_support')).posts)).toEqual([]);
  });

  it('validates its parameters by the lexicon', async () => {
    const missing = await xrpc('app.bsky.feed.searchPosts', {
      query: 'limit=1',
      token: agent.session?.accessJwt ?? '',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('InvalidRequest');
    expect(String(missing.body.message)).toMatch(/^Invalid app\.bsky\.feed\.searchPosts params: .*q/u);
    const tooMany = await xrpc('app.bsky.feed.searchPosts', { query: 'q=a&limit=101' });
    expect(tooMany.status).toBe(400);
    expect(await failure(search('a', { cursor: '10001' }))).toMatchObject({
      status: 400,
      error: 'InvalidRequest',
    });
  });
});

describe('posts, profiles and threads', () => {
  it('serves posts with facets the Bluesky app would write (mentions resolved to DIDs, links, tags)', async () => {
    const uri = post('help @kikimimi-support.bsky.social see https://example.com/a #しおりノート', 'hana', {
      lang: 'ja',
      hashtags: ['しおりノート', 'extra'],
    });
    const view = (await agent.app.bsky.feed.getPosts({ uris: [uri, `${uri}x`] })).data.posts;
    expect(view).toHaveLength(1);
    const record = view[0]?.record as Record<string, unknown> & {
      facets: Array<{ features: Array<Record<string, string>> }>;
    };
    expect(record.langs).toEqual(['ja']);
    expect(record.tags).toEqual(['extra']);
    expect(record.facets.flatMap((f) => f.features)).toEqual([
      { $type: 'app.bsky.richtext.facet#mention', did: sandbox.account.did },
      { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/a' },
      { $type: 'app.bsky.richtext.facet#tag', tag: 'しおりノート' },
    ]);
    expect(view[0]?.author).toMatchObject({ did: didFor('hana.bsky.social'), handle: 'hana.bsky.social' });
    expect(view[0]?.cid).toBe(cidFor(view[0]?.record));
  });

  it('answers profiles and handles as the AppView does', async () => {
    post('hello', 'hana');
    sandbox.addPost({ text: 'hi', author: { handle: 'hana', name: 'はな', followers: 1200 } });
    const profile = (await agent.app.bsky.actor.getProfile({ actor: 'hana.bsky.social' })).data;
    expect(profile).toMatchObject({
      handle: 'hana.bsky.social',
      displayName: 'はな',
      followersCount: 1200,
      postsCount: 2,
    });
    const both = (await agent.app.bsky.actor.getProfiles({ actors: [profile.did, 'nobody.bsky.social'] }))
      .data;
    expect(both.profiles.map((p) => p.handle)).toEqual(['hana.bsky.social']);
    expect(await failure(agent.app.bsky.actor.getProfile({ actor: 'nobody.bsky.social' }))).toEqual({
      status: 400,
      error: 'InvalidRequest',
      message: 'Profile not found',
    });
    expect((await agent.com.atproto.identity.resolveHandle({ handle: 'hana.bsky.social' })).data.did).toBe(
      profile.did,
    );
    expect(await failure(agent.com.atproto.identity.resolveHandle({ handle: 'nobody.bsky.social' }))).toEqual(
      {
        status: 400,
        error: 'HandleNotFound',
        message: 'Unable to resolve handle',
      },
    );
  });

  it('shows a thread with its replies, and says NotFound for a post that is not there', async () => {
    const root = post('my shelf is gone', 'hana');
    const rich = new RichText({ text: 'Sorry! See https://help.example.com/' });
    await rich.detectFacets(agent);
    const ours = await agent.post({
      text: rich.text,
      ...(rich.facets ? { facets: rich.facets } : {}),
      reply: {
        root: { uri: root, cid: sandbox.posts()[0]?.cid ?? '' },
        parent: { uri: root, cid: sandbox.posts()[0]?.cid ?? '' },
      },
      createdAt: new Date().toISOString(),
    });
    const answer = sandbox.addReply(ours.uri, { text: 'thanks, fixed!', author: { handle: 'hana' } });
    const thread = (await agent.app.bsky.feed.getPostThread({ uri: root, depth: 5 })).data
      .thread as unknown as {
      post: { replyCount: number };
      replies: Array<{
        post: { uri: string };
        replies: Array<{ post: { uri: string; record: { reply: { root: { uri: string } } } } }>;
      }>;
    };
    expect(thread.post.replyCount).toBe(1);
    expect(thread.replies.map((r) => r.post.uri)).toEqual([ours.uri]);
    expect(thread.replies[0]?.replies.map((r) => r.post.uri)).toEqual([answer]);
    expect(thread.replies[0]?.replies[0]?.post.record.reply.root.uri).toBe(root);
    // Another last character than the root's own (a record key ends in any base32 character).
    const missing = `${root.slice(0, -1)}${root.endsWith('a') ? 'b' : 'a'}`;
    expect(await failure(agent.app.bsky.feed.getPostThread({ uri: missing }))).toEqual({
      status: 400,
      error: 'NotFound',
      message: `Post not found: ${missing}`,
    });
  });
});

describe('createRecord and getRecord', () => {
  const record = (text: string) => ({
    $type: 'app.bsky.feed.post',
    text,
    createdAt: new Date().toISOString(),
  });

  it('creates a record under the given key; a second create under the same key fails as the PDS does (500)', async () => {
    const target = post('kk please help', 'hana');
    const cid = sandbox.posts()[0]?.cid ?? '';
    const rkey = '3jzfcijpj2z2a';
    const create = () =>
      agent.com.atproto.repo.createRecord({
        repo: sandbox.account.did,
        collection: 'app.bsky.feed.post',
        rkey,
        record: {
          ...record('We are on it'),
          reply: { root: { uri: target, cid }, parent: { uri: target, cid } },
        },
        validate: true,
      });
    const first = (await create()).data;
    expect(first).toMatchObject({
      uri: `at://${sandbox.account.did}/app.bsky.feed.post/${rkey}`,
      validationStatus: 'valid',
    });
    // What @atproto/dev-env's PDS answers (its repository refuses a second value at the key).
    expect(await failure(create())).toEqual({
      status: 500,
      error: 'InternalServerError',
      message: 'Internal Server Error',
    });
    expect(sandbox.replies()).toEqual([
      expect.objectContaining({ id: first.uri, inReplyTo: target, text: 'We are on it' }),
    ]);
    const found = (
      await agent.com.atproto.repo.getRecord({
        repo: sandbox.account.handle,
        collection: 'app.bsky.feed.post',
        rkey,
      })
    ).data;
    expect(found).toMatchObject({ uri: first.uri, cid: first.cid, value: { text: 'We are on it' } });
    const other = '3jzfcijpj2z2b';
    expect(
      await failure(
        agent.com.atproto.repo.getRecord({
          repo: sandbox.account.did,
          collection: 'app.bsky.feed.post',
          rkey: other,
        }),
      ),
    ).toEqual({
      status: 400,
      error: 'RecordNotFound',
      message: `Could not locate record: at://${sandbox.account.did}/app.bsky.feed.post/${other}`,
    });
  });

  it('refuses what the PDS refuses: a key that is no TID, an invalid record, another repository', async () => {
    const create = (input: Record<string, unknown>) =>
      agent.com.atproto.repo.createRecord({
        repo: sandbox.account.did,
        collection: 'app.bsky.feed.post',
        record: record('ok'),
        ...input,
      });
    expect(await failure(create({ rkey: 'notatid' }))).toEqual({
      status: 400,
      error: 'InvalidRequest',
      message: 'Invalid record key for app.bsky.feed.post: Invalid TID string (got "notatid")',
    });
    const long = await failure(create({ record: record('x'.repeat(301)) }));
    expect(long).toMatchObject({ status: 400, error: 'InvalidRequest' });
    expect(long.message).toMatch(/^Invalid app\.bsky\.feed\.post record: .*300 graphemes/u);
    expect(await failure(create({ repo: didFor('hana.bsky.social') }))).toMatchObject({ status: 401 });
    expect(sandbox.posts()).toEqual([]);
  });
});

describe('notifications', () => {
  it('notifies replies, mentions, likes and reposts of our posts, newest first, never our own', async () => {
    const question = post('kk my order?', 'hana');
    const cid = sandbox.posts()[0]?.cid ?? '';
    const ours = await agent.post({
      text: 'Which order number?',
      reply: { root: { uri: question, cid }, parent: { uri: question, cid } },
      createdAt: new Date().toISOString(),
    });
    const answer = sandbox.addReply(ours.uri, { text: 'it is 12345', author: { handle: 'hana' } });
    const like = sandbox.like(ours.uri, { handle: 'hana' });
    expect(sandbox.like(ours.uri, { handle: 'hana' })).toBe(like);
    const repost = sandbox.repost(ours.uri, { handle: 'ken' });
    const mention = post('hello @kikimimi-support.bsky.social', 'ken');
    // A reply that mentions us is a mention, not a reply as well (one notification per account).
    const both = sandbox.addReply(ours.uri, {
      text: '@kikimimi-support.bsky.social and also',
      author: { handle: 'ken' },
    });
    // Not ours: nobody notifies us of these.
    sandbox.like(question, { handle: 'ken' });
    await agent.like(question, cid);

    const all = (await agent.app.bsky.notification.listNotifications({ limit: 50 })).data;
    expect(all.notifications.map((n) => [n.reason, n.uri, n.reasonSubject])).toEqual([
      ['mention', both, undefined],
      ['mention', mention, undefined],
      ['repost', repost, ours.uri],
      ['like', like, ours.uri],
      ['reply', answer, ours.uri],
    ]);
    expect(all.notifications.at(-1)).toMatchObject({
      author: { handle: 'hana.bsky.social' },
      record: { text: 'it is 12345' },
      isRead: false,
    });
    const replies = (
      await agent.app.bsky.notification.listNotifications({ reasons: ['reply', 'like'], limit: 1 })
    ).data;
    expect(replies.notifications.map((n) => n.uri)).toEqual([like]);
    const next = (
      await agent.app.bsky.notification.listNotifications({
        reasons: ['reply', 'like'],
        limit: 1,
        cursor: replies.cursor ?? '',
      })
    ).data;
    expect(next.notifications.map((n) => n.uri)).toEqual([answer]);
    expect(next.cursor).toBeUndefined();
  });
});

describe('replies restricted (a threadgate that allows nobody)', () => {
  it('says replyDisabled with the threadgate; a reply made anyway is created but hidden', async () => {
    const closed = post('kk gated', 'hana');
    sandbox.setReplyRestricted(true);
    const view = (await agent.app.bsky.feed.getPosts({ uris: [closed] })).data.posts[0];
    expect(view?.viewer?.replyDisabled).toBe(true);
    expect(view?.threadgate?.record).toMatchObject({
      $type: 'app.bsky.feed.threadgate',
      post: closed,
      allow: [],
    });
    const cid = view?.cid ?? '';
    const ours = await agent.post({
      text: 'anyway',
      reply: { root: { uri: closed, cid }, parent: { uri: closed, cid } },
      createdAt: new Date().toISOString(),
    });
    const thread = (await agent.app.bsky.feed.getPostThread({ uri: closed })).data.thread as {
      replies: unknown[];
    };
    expect(thread.replies).toEqual([]);
    expect(sandbox.replies().map((r) => r.id)).toEqual([ours.uri]);
    sandbox.setReplyRestricted(false);
    expect(
      (await agent.app.bsky.feed.getPosts({ uris: [closed] })).data.posts[0]?.viewer?.replyDisabled,
    ).toBeUndefined();
  });
});

describe('XRPC itself', () => {
  it('answers a method it does not serve with 501 MethodNotImplemented, and a wrong HTTP method with 400', async () => {
    const firehose = await xrpc('com.atproto.sync.subscribeRepos');
    expect(firehose).toMatchObject({
      status: 501,
      body: { error: 'MethodNotImplemented', message: 'Method Not Implemented' },
    });
    expect((await xrpc('app.bsky.feed.getTimeline')).status).toBe(501);
    const wrong = await xrpc('app.bsky.feed.searchPosts', { query: 'q=a', body: {} });
    expect(wrong).toMatchObject({
      status: 400,
      body: { error: 'InvalidRequest', message: 'Incorrect HTTP method (POST) expected GET' },
    });
  });

  it('counts requests against the window with RateLimit-* headers and answers 429 past it', async () => {
    await sandbox.close();
    sandbox = await startBlueskySandbox({ rateLimit: { limit: 3, windowSeconds: 300 } });
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(
        await xrpc('com.atproto.identity.resolveHandle', { query: `handle=${sandbox.account.handle}` }),
      );
    expect(answers.map((a) => a.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    expect(answers[3]).toMatchObject({
      status: 429,
      body: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
    });
    expect(answers[0]?.headers.get('ratelimit-policy')).toBe('3;w=300');
    sandbox.resetRateLimit();
    expect(
      (await xrpc('com.atproto.identity.resolveHandle', { query: `handle=${sandbox.account.handle}` }))
        .status,
    ).toBe(200);
  });

  it('serves injected faults in the shape the agent sees from Bluesky', async () => {
    sandbox.faults.inject({
      fault: { kind: 'rate-limit', resetInSeconds: 60 },
      path: '/xrpc/app.bsky.feed.searchPosts',
    });
    const limited = await agent.app.bsky.feed.searchPosts({ q: 'a' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(XRPCError);
    expect((limited as XRPCError).status).toBe(429);
    expect(Number((limited as XRPCError).headers?.['ratelimit-reset'])).toBeGreaterThan(
      Date.now() / 1000 + 50,
    );
    expect((await search('a')).posts).toEqual([]);
  });

  it('every answer the connector reads is valid by the lexicons', async () => {
    const question = post('kk valid? @kikimimi-support.bsky.social https://example.com', 'hana', {
      lang: 'ja',
    });
    const cid = sandbox.posts()[0]?.cid ?? '';
    const ours = await agent.post({
      text: 'yes',
      reply: { root: { uri: question, cid }, parent: { uri: question, cid } },
      createdAt: new Date().toISOString(),
    });
    sandbox.addReply(ours.uri, { text: 'ok', author: { handle: 'hana' } });
    sandbox.like(ours.uri, { handle: 'hana' });
    const token = agent.session?.accessJwt ?? '';
    const answers: Array<[string, string]> = [
      ['app.bsky.feed.searchPosts', 'q=kk'],
      ['app.bsky.feed.getPosts', `uris=${encodeURIComponent(question)}`],
      ['app.bsky.feed.getPostThread', `uri=${encodeURIComponent(question)}`],
      ['app.bsky.actor.getProfiles', 'actors=hana.bsky.social'],
      ['app.bsky.notification.listNotifications', ''],
      ['com.atproto.server.getSession', ''],
    ];
    for (const [nsid, query] of answers) {
      const answer = await xrpc(nsid, { query, token });
      expect(answer.status, nsid).toBe(200);
      expect(() => lexicons.assertValidXrpcOutput(nsid, answer.body), nsid).not.toThrow();
    }
  });
});
