import { RichText } from '@atproto/api';
import type { Post } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, type BlueskyNetwork, startBlueskyNetwork } from '../../test/bluesky-network.ts';
import { connectorForAccount } from '../credentials.ts';
import { AuthFailedError, PostUnavailableError } from '../errors.ts';
import type { Connector, PollSource, StreamEvent } from '../types.ts';
import { createBlueskyConnector } from './bluesky-connector.ts';

/*
 * The connector against Bluesky's reference implementations (@atproto/dev-env: PLC, PDS, AppView),
 * not a stand-in: one network for the file. "alice" is a customer, "desk" is our account.
 */

let bsky: BlueskyNetwork;
let alice: Account;
let desk: Account;
let connector: Connector;

const connectorFor = (account: Account, appPassword = account.appPassword) =>
  createBlueskyConnector({
    service: bsky.net.pds.url,
    identifier: account.handle,
    appPassword,
    plcUrl: bsky.net.plc.url,
    relayUrl: bsky.firehoseUrl,
    identityFetch: globalThis.fetch,
  });

async function post(account: Account, text: string, extra: Record<string, unknown> = {}) {
  const rich = new RichText({ text });
  await rich.detectFacets(account.agent);
  return account.agent.post({
    text: rich.text,
    ...(rich.facets ? { facets: rich.facets } : {}),
    createdAt: new Date().toISOString(),
    ...extra,
  });
}

const source = (query: string): PollSource => ({
  platform: 'bluesky',
  kind: 'search',
  key: `bsky:${query}`,
  query,
});

beforeAll(async () => {
  bsky = await startBlueskyNetwork();
  alice = await bsky.createAccount('alice');
  desk = await bsky.createAccount('desk');
  connector = connectorFor(desk);
}, 120_000);

afterAll(async () => {
  await bsky?.close();
});

describe('credentials', () => {
  it('verifies a handle and app password and says who the account is', async () => {
    await bsky.net.processAll();
    const me = await connector.verifyCredentials();
    expect(me).toEqual({
      platform: 'bluesky',
      id: desk.did,
      handle: 'desk.test',
      displayName: 'Desk (test)',
    });
    expect(await connector.maxReplyLength()).toBe(300);
  });

  it('refuses a wrong app password with AuthFailedError naming the server, without the password', async () => {
    const wrong = 'abcd-efgh-ijkl-mnop';
    const error = await connectorFor(desk, wrong)
      .verifyCredentials()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthFailedError);
    expect((error as Error).message).toContain(new URL(bsky.net.pds.url).host);
    expect((error as Error).message).not.toContain(wrong);
  });

  it('connectorForAccount builds the Bluesky connector from stored credentials', async () => {
    const built = connectorForAccount({
      platform: 'bluesky',
      baseUrl: bsky.net.pds.url,
      streamingUrl: null,
      credentials: { identifier: desk.handle, appPassword: desk.appPassword },
    });
    expect(built.platform).toBe('bluesky');
    expect((await built.verifyCredentials()).id).toBe(desk.did);
    expect(() =>
      connectorForAccount({
        platform: 'bluesky',
        baseUrl: null,
        streamingUrl: null,
        credentials: { identifier: 'a.test' },
      }),
    ).toThrow(/appPassword/u);
  });
});

describe('search', () => {
  it("finds another account's post, normalised: facets, langs, links, mentions, tags", async () => {
    const created = await post(
      alice,
      'kkmatcha アプリが落ちる @desk.test https://example.com/help/very/long/path?x=1 #不具合',
      { langs: ['ja', 'en'] },
    );
    await bsky.net.processAll();
    const result = await connector.poll(source('kkmatcha'), null);
    expect(result.rejected).toEqual([]);
    expect(result.posts).toHaveLength(1);
    const found = result.posts[0] as Post;
    expect(found).toMatchObject({
      platform: 'bluesky',
      id: created.uri,
      url: `https://bsky.app/profile/alice.test/post/${created.uri.split('/').pop()}`,
      author: { id: alice.did, handle: 'alice.test', displayName: 'Alice (test)' },
      lang: 'ja',
      inReplyTo: null,
      conversationId: created.uri,
      hashtags: ['不具合'],
      mentions: ['desk.test'],
      repostOf: null,
    });
    expect(found.text).toContain('https://example.com/help/very/long/path?x=1');
    expect(result.cursor).not.toBeNull();
  });

  it('expands a shortened link text to its facet URI, and carries reply refs and quotes', async () => {
    const root = await post(alice, 'kkroot thread start');
    const text = 'kkquote see example.com/docs/… for more';
    const bytes = new TextEncoder();
    const start = bytes.encode('kkquote see ').length;
    const end = start + bytes.encode('example.com/docs/…').length;
    const quoting = await alice.agent.post({
      text,
      facets: [
        {
          index: { byteStart: start, byteEnd: end },
          features: [
            { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/docs/getting-started' },
          ],
        },
      ],
      reply: { root: { uri: root.uri, cid: root.cid }, parent: { uri: root.uri, cid: root.cid } },
      embed: { $type: 'app.bsky.embed.record', record: { uri: root.uri, cid: root.cid } },
      createdAt: new Date().toISOString(),
    });
    await bsky.net.processAll();
    const result = await connector.poll(source('kkquote'), null);
    const found = result.posts[0] as Post;
    expect(found.id).toBe(quoting.uri);
    expect(found.text).toBe(
      `kkquote see https://example.com/docs/getting-started for more\nhttps://bsky.app/profile/${alice.did}/post/${root.uri.split('/').pop()}`,
    );
    expect(found.inReplyTo).toBe(root.uri);
    expect(found.conversationId).toBe(root.uri);
  });

  it('never repeats a post and never skips one, also when the page budget runs out', async () => {
    const first = await connector.poll(source('kkburst'), null);
    expect(first.posts).toEqual([]);
    const again = await connector.poll(source('kkburst'), first.cursor);
    expect(again.posts).toEqual([]);

    const made: string[] = [];
    for (let i = 0; i < 7; i += 1) made.push((await post(alice, `kkburst number ${i}`)).uri);
    await bsky.net.processAll();

    // One page of two per poll: the burst comes over several polls, each post once, none skipped.
    let cursor = again.cursor;
    const got: string[] = [];
    let polls = 0;
    for (;;) {
      const result = await connector.poll(source('kkburst'), cursor, { pageSize: 2, pageBudget: 1 });
      polls += 1;
      got.push(...result.posts.map((p) => p.id));
      cursor = result.cursor;
      if (result.caughtUp && result.posts.length === 0) break;
      expect(polls).toBeLessThan(20);
    }
    expect(polls).toBeGreaterThan(2);
    expect(got.toSorted()).toEqual(made.toSorted());
    expect(new Set(got).size).toBe(got.length);

    const later = await post(alice, 'kkburst one more');
    await bsky.net.processAll();
    const last = await connector.poll(source('kkburst'), cursor);
    expect(last.posts.map((p) => p.id)).toEqual([later.uri]);
  });

  it('refuses a cursor that is not one', async () => {
    await expect(connector.poll(source('kk'), '{"v":2}')).rejects.toThrow(/not a Bluesky cursor/u);
  });
});

describe('reply', () => {
  it('replies once, with facets and reply refs, also when called twice with the same key', async () => {
    const root = await post(alice, 'kkreply my order never arrived');
    const child = await alice.agent.post({
      text: 'kkreply still waiting',
      reply: { root: { uri: root.uri, cid: root.cid }, parent: { uri: root.uri, cid: root.cid } },
      createdAt: new Date().toISOString(),
    });
    await bsky.net.processAll();
    const target = { postId: child.uri, url: 'https://bsky.app/x', authorHandle: 'alice.test' };
    const text = 'Sorry @alice.test — see https://example.com/status';
    const [one, two] = await Promise.all([
      connector.reply(target, text, { idempotencyKey: 'match-42' }),
      connector.reply(target, text, { idempotencyKey: 'match-42' }),
    ]);
    const three = await connectorFor(desk).reply(target, text, { idempotencyKey: 'match-42' });
    expect(two).toEqual(one);
    expect(three).toEqual(one);
    expect(one.url).toBe(`https://bsky.app/profile/desk.test/post/${one.id.split('/').pop()}`);
    await bsky.net.processAll();

    const thread = await alice.agent.getPostThread({ uri: child.uri, depth: 5 });
    const replies =
      (thread.data.thread as { replies?: Array<{ post: { uri: string; record: unknown } }> }).replies ?? [];
    const ours = replies.filter((r) => r.post.uri.includes(desk.did));
    expect(ours).toHaveLength(1);
    const record = ours[0]?.post.record as {
      text: string;
      reply: { root: { uri: string }; parent: { uri: string } };
      facets: Array<{ features: Array<{ $type: string }> }>;
    };
    expect(record.text).toBe(text);
    expect(record.reply.root.uri).toBe(root.uri);
    expect(record.reply.parent.uri).toBe(child.uri);
    expect(record.facets.flatMap((f) => f.features.map((x) => x.$type)).toSorted()).toEqual([
      'app.bsky.richtext.facet#link',
      'app.bsky.richtext.facet#mention',
    ]);

    const other = await connector.reply(target, 'A second, different reply', { idempotencyKey: 'match-43' });
    expect(other.id).not.toBe(one.id);
  });

  it('refuses a reply to a deleted post with PostUnavailableError, and one over 300 graphemes', async () => {
    const gone = await post(alice, 'kkgone soon');
    await alice.agent.deletePost(gone.uri);
    await bsky.net.processAll();
    const target = { postId: gone.uri, url: 'https://bsky.app/gone', authorHandle: 'alice.test' };
    await expect(connector.reply(target, 'hello', { idempotencyKey: 'gone-1' })).rejects.toBeInstanceOf(
      PostUnavailableError,
    );
    await expect(connector.reply(target, '👍🏽'.repeat(301), { idempotencyKey: 'long-1' })).rejects.toThrow(
      /301 graphemes; Bluesky allows 300/u,
    );
  });
});

describe('post (an announcement of our own)', () => {
  it('posts once, with facets and no reply refs, also when called twice with the same key', async () => {
    const text = 'Login is failing for some of you — we are on it: https://example.com/status';
    const [one, two] = await Promise.all([
      connector.post(text, { idempotencyKey: 'surge-7:bluesky' }),
      connector.post(text, { idempotencyKey: 'surge-7:bluesky' }),
    ]);
    const three = await connectorFor(desk).post(text, { idempotencyKey: 'surge-7:bluesky' });
    expect(two).toEqual(one);
    expect(three).toEqual(one);
    expect(one.url).toBe(`https://bsky.app/profile/desk.test/post/${one.id.split('/').pop()}`);
    await bsky.net.processAll();
    const feed = await alice.agent.getAuthorFeed({ actor: desk.did, limit: 50 });
    const ours = feed.data.feed.filter((item) => (item.post.record as { text?: string }).text === text);
    expect(ours).toHaveLength(1);
    const record = ours[0]?.post.record as {
      reply?: unknown;
      facets?: Array<{ features: Array<{ $type: string }> }>;
    };
    expect(record.reply).toBeUndefined();
    expect(record.facets?.flatMap((f) => f.features.map((x) => x.$type))).toEqual([
      'app.bsky.richtext.facet#link',
    ]);
  });

  it('refuses an empty post and one over 300 graphemes, saying which', async () => {
    await expect(connector.post('  ', { idempotencyKey: 'empty-1' })).rejects.toThrow(
      /a Bluesky post cannot be empty/u,
    );
    await expect(connector.post('👍🏽'.repeat(301), { idempotencyKey: 'long-2' })).rejects.toThrow(
      /the post is 301 graphemes; Bluesky allows 300/u,
    );
  });
});

describe('stream (firehose)', () => {
  /** Reads events until `count` arrive (or 20 s pass), then stops the stream. */
  async function take(
    cursor: string | null,
    count: number,
    during?: () => Promise<void>,
  ): Promise<StreamEvent[]> {
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    const timer = setTimeout(() => controller.abort(), 20_000);
    let reading: Promise<void> = Promise.resolve();
    const opened = new Promise<void>((resolve) => {
      const iterator = connector.stream?.(
        { platform: 'bluesky', kind: 'firehose', key: 'bsky:firehose' },
        {
          signal: controller.signal,
          cursor,
          onState: (state) => {
            if (state === 'open') resolve();
          },
        },
      );
      reading = (async () => {
        for await (const event of iterator ?? []) {
          events.push(event);
          if (events.length >= count) break;
        }
      })();
    });
    await opened;
    if (during) await during();
    await reading;
    clearTimeout(timer);
    controller.abort();
    return events;
  }

  const ids = (events: readonly StreamEvent[]) =>
    events.map((e) => (e.kind === 'delete' ? `delete ${e.postId}` : `${e.kind} ${e.post.id}`));

  it('yields new posts, resumes from a stored cursor without loss or repeats, and reports deletions', async () => {
    // A first post arrives live; its cursor is stored.
    let firstUri = '';
    const live = await take(null, 1, async () => {
      await new Promise((r) => setTimeout(r, 500));
      firstUri = (await post(alice, 'kkstream first')).uri;
    });
    expect(ids(live)).toEqual([`post ${firstUri}`]);
    expect(live[0]?.kind === 'post' && live[0].post.author.handle).toBe('alice.test');
    const stored = live[0]?.cursor as string;
    expect(stored).toMatch(/^\d+:\d+$/u);

    // While nobody listens: two posts in ONE commit, one more, and a deletion.
    const batch = await alice.agent.com.atproto.repo.applyWrites({
      repo: alice.did,
      writes: ['kkstream batch a', 'kkstream batch b'].map((text) => ({
        $type: 'com.atproto.repo.applyWrites#create' as const,
        collection: 'app.bsky.feed.post',
        value: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
      })),
    });
    const batchUris = (batch.data.results ?? []).map((r) => (r as { uri: string }).uri);
    const third = await post(desk, 'kkstream third');
    await alice.agent.deletePost(firstUri);

    // Resumed from the stored cursor: exactly what happened since, in order.
    const resumed = await take(stored, 4);
    expect(ids(resumed)).toEqual([
      `post ${batchUris[0]}`,
      `post ${batchUris[1]}`,
      `post ${third.uri}`,
      `delete ${firstUri}`,
    ]);

    // Stopped after the first post of the two-post commit: the second is not lost, the first not repeated.
    const middle = resumed[0]?.cursor as string;
    const rest = await take(middle, 3);
    expect(ids(rest)).toEqual(ids(resumed.slice(1)));
  });
});

describe('activity (notifications)', () => {
  it('reports answers to our reply and likes / reposts of it, each once, from a cursor that starts now', async () => {
    // A conversation that happened before the first look is not reported later.
    const earlier = await post(alice, 'kkact earlier question');
    await bsky.net.processAll();
    const old = await connector.reply(
      { postId: earlier.uri, url: 'https://bsky.app/e', authorHandle: 'alice.test' },
      'An earlier answer',
      { idempotencyKey: 'act-old' },
    );
    await bsky.net.processAll();
    await alice.agent.like(
      old.id,
      (await alice.agent.getPosts({ uris: [old.id] })).data.posts[0]?.cid as string,
    );
    await bsky.net.processAll();

    // First look: one request, and a cursor even when it finds nothing.
    const bob = await bsky.createAccount('bob');
    const first = await connectorFor(bob).activity?.(null);
    expect(first?.items).toEqual([]);
    expect(first?.cursor).not.toBeNull();
    expect(first?.requests).toBe(1);
    const start = await connector.activity?.(null);
    expect(start?.requests).toBe(1);
    expect(start?.cursor).not.toBeNull();

    // Our reply to alice, her answer to it, her like and bob's repost of it, and a mention that
    // answers nothing.
    const question = await post(alice, 'kkact where is my order?');
    await bsky.net.processAll();
    const ours = await connector.reply(
      { postId: question.uri, url: 'https://bsky.app/q', authorHandle: 'alice.test' },
      'Sorry! Could you tell us the order number?',
      { idempotencyKey: 'act-1' },
    );
    await bsky.net.processAll();
    const oursCid = (await alice.agent.getPosts({ uris: [ours.id] })).data.posts[0]?.cid as string;
    const answer = await alice.agent.post({
      text: 'kkact it is 12345',
      reply: { root: { uri: question.uri, cid: question.cid }, parent: { uri: ours.id, cid: oursCid } },
      createdAt: new Date().toISOString(),
    });
    await alice.agent.like(ours.id, oursCid);
    await bob.agent.repost(ours.id, oursCid);
    await post(alice, 'kkact hello @desk.test');
    await bsky.net.processAll();

    const next = await connector.activity?.(start?.cursor ?? null);
    expect(next?.caughtUp).toBe(true);
    const items = next?.items ?? [];
    expect(items.map((i) => (i.kind === 'answer' ? `answer ${i.post.id}` : `${i.kind} ${i.postId}`))).toEqual(
      [`answer ${answer.uri}`, `like ${ours.id}`, `repost ${ours.id}`],
    );
    const first0 = items[0];
    expect(first0?.kind === 'answer' && first0.post.inReplyTo).toBe(ours.id);
    expect(first0?.kind === 'answer' && first0.post.author.handle).toBe('alice.test');
    expect(items[2]?.kind === 'repost' && items[2].author).toEqual({ id: bob.did, handle: 'bob.test' });

    // Nothing new: nothing again, whatever the late window re-reads.
    const again = await connector.activity?.(next?.cursor ?? null);
    expect(again?.items).toEqual([]);
    expect(again?.caughtUp).toBe(true);

    await expect(connector.activity?.('{"v":1}')).rejects.toThrow(/not a Bluesky activity cursor/u);
  });
});
