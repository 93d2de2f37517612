import { type BlueskySandbox, startBlueskySandbox } from '@kikimimi/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlueskyConnector } from '../src/bluesky/bluesky-connector.ts';
import { connectorForAccount } from '../src/credentials.ts';
import { ReplyNotAllowedError } from '../src/errors.ts';
import type { Connector, PollSource } from '../src/types.ts';

/*
 * The Bluesky connector against the Bluesky stand-in (what the demo world runs): the paths the
 * worker takes — search polls, replies exactly once, conversations from notifications — work there
 * as they do against Bluesky's reference servers (src/bluesky/bluesky-connector.test.ts).
 */

let sandbox: BlueskySandbox;
let connector: Connector;

beforeEach(async () => {
  sandbox = await startBlueskySandbox();
  // Built the way the worker builds it from a stored account: the PDS is the account's base URL.
  connector = connectorForAccount({
    platform: 'bluesky',
    baseUrl: sandbox.url,
    streamingUrl: null,
    credentials: { identifier: sandbox.account.handle, appPassword: sandbox.appPassword },
  });
});
afterEach(async () => {
  await sandbox.close();
});

const source = (query: string): PollSource => ({
  platform: 'bluesky',
  kind: 'search',
  key: `bsky:${query}`,
  query,
});

describe('the Bluesky connector on the stand-in', () => {
  it('finds posts by search, normalised, and then only new ones', async () => {
    const first = sandbox.addPost({
      text: 'しおりノート 同期できない @kikimimi-support.bsky.social https://example.com/x #不具合',
      author: { handle: 'hana', name: 'はな', followers: 12 },
      lang: 'ja',
    });
    const one = await connector.poll(source('しおりノート'), null);
    expect(one.rejected).toEqual([]);
    expect(one.posts).toHaveLength(1);
    expect(one.posts[0]).toMatchObject({
      platform: 'bluesky',
      id: first,
      url: `https://bsky.app/profile/hana.bsky.social/post/${first.split('/').pop()}`,
      author: { handle: 'hana.bsky.social', displayName: 'はな' },
      lang: 'ja',
      hashtags: ['不具合'],
      mentions: ['kikimimi-support.bsky.social'],
      inReplyTo: null,
    });
    expect(one.rateLimit).toMatchObject({ limit: 3000 });
    const idle = await connector.poll(source('しおりノート'), one.cursor);
    expect(idle.posts).toEqual([]);
    const second = sandbox.addPost({ text: 'しおりノート また落ちた', author: { handle: 'ken' } });
    const two = await connector.poll(source('しおりノート'), idle.cursor);
    expect(two.posts.map((p) => p.id)).toEqual([second]);
  });

  it('replies once per key, also when two attempts race (the second create is refused, the first is found)', async () => {
    const question = sandbox.addPost({
      text: 'kkreply my shelf is gone',
      author: { handle: 'hana' },
      lang: 'ja',
    });
    const target = { postId: question, url: 'https://bsky.app/x', authorHandle: 'hana.bsky.social' };
    const text = 'ご不便をおかけしております。 https://help.example.com/ をご覧ください';
    // The first create waits a second: the other attempt, also finding no record under the key,
    // creates it meanwhile, and the waiting one is then refused (500, as the PDS answers).
    sandbox.faults.inject({
      fault: { kind: 'slow', delayMs: 1_000 },
      path: '/xrpc/com.atproto.repo.createRecord',
    });
    const [a, b] = await Promise.all([
      connector.reply(target, text, { idempotencyKey: 'match-1' }),
      createBlueskyConnector({
        service: sandbox.url,
        identifier: sandbox.account.handle,
        appPassword: sandbox.appPassword,
      }).reply(target, text, { idempotencyKey: 'match-1' }),
    ]);
    expect(b).toEqual(a);
    expect(sandbox.requestCount('/xrpc/com.atproto.repo.createRecord')).toBe(2);
    const again = await connector.reply(target, text, { idempotencyKey: 'match-1' });
    expect(again).toEqual(a);
    expect(sandbox.replies()).toEqual([expect.objectContaining({ id: a.id, inReplyTo: question, text })]);
    const record = sandbox.posts().find((p) => p.uri === a.id)?.record as {
      langs?: string[];
      reply: { root: { uri: string } };
      facets: Array<{ features: Array<{ $type: string }> }>;
    };
    expect(record.langs).toEqual(['ja']);
    expect(record.reply.root.uri).toBe(question);
    expect(record.facets.flatMap((f) => f.features.map((x) => x.$type))).toEqual([
      'app.bsky.richtext.facet#link',
    ]);
    expect(a.url).toBe(`https://bsky.app/profile/${sandbox.account.handle}/post/${a.id.split('/').pop()}`);
  });

  it('replies with a mention of a handle nobody has: the text keeps it, without a mention facet', async () => {
    const question = sandbox.addPost({ text: 'kkmention hello', author: { handle: 'hana' } });
    sandbox.addPost({ text: 'hi', author: { handle: 'ken' } });
    const target = { postId: question, url: 'https://bsky.app/x', authorHandle: 'hana.bsky.social' };
    const text = 'Ask @ken.bsky.social or @nobody-here.bsky.social';
    const sent = await connector.reply(target, text, { idempotencyKey: 'mention-1' });
    const record = sandbox.posts().find((p) => p.uri === sent.id)?.record as {
      text: string;
      facets: Array<{ features: Array<{ $type: string; did?: string }> }>;
    };
    expect(record.text).toBe(text);
    expect(record.facets.flatMap((f) => f.features)).toEqual([
      { $type: 'app.bsky.richtext.facet#mention', did: sandbox.posts()[1]?.author.did },
    ]);
  });

  it('says when the author does not let us reply, with a link to reply by hand', async () => {
    const question = sandbox.addPost({ text: 'kkgate hello', author: { handle: 'hana' } });
    sandbox.setReplyRestricted(true);
    const target = {
      postId: question,
      url: 'https://bsky.app/profile/hana.bsky.social/post/1',
      authorHandle: 'hana',
    };
    const error = await connector.reply(target, 'hi', { idempotencyKey: 'gate-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyNotAllowedError);
    expect((error as ReplyNotAllowedError).manualUrl).toBe(target.url);
    expect(sandbox.replies()).toEqual([]);
  });

  it('follows the conversation: the answer to our reply, likes and reposts of it, each once', async () => {
    const start = await connector.activity?.(null);
    expect(start?.items).toEqual([]);
    const question = sandbox.addPost({ text: 'kkact where is my order?', author: { handle: 'hana' } });
    const ours = await connector.reply(
      { postId: question, url: 'https://bsky.app/q', authorHandle: 'hana.bsky.social' },
      'Which order number?',
      { idempotencyKey: 'act-1' },
    );
    const answer = sandbox.addReply(ours.id, { text: 'it is 12345', author: { handle: 'hana' } });
    sandbox.like(ours.id, { handle: 'hana' });
    sandbox.repost(ours.id, { handle: 'ken' });
    // A mention that answers nothing is no part of a conversation.
    sandbox.addPost({ text: 'hi @kikimimi-support.bsky.social', author: { handle: 'ken' } });
    const next = await connector.activity?.(start?.cursor ?? null);
    expect(
      next?.items.map((i) =>
        i.kind === 'answer' ? `answer ${i.post.id} ${i.post.inReplyTo}` : `${i.kind} ${i.postId}`,
      ),
    ).toEqual([`answer ${answer} ${ours.id}`, `like ${ours.id}`, `repost ${ours.id}`]);
    const again = await connector.activity?.(next?.cursor ?? null);
    expect(again?.items).toEqual([]);
  });

  it('keeps working when its session expires: the agent refreshes it', async () => {
    await sandbox.close();
    sandbox = await startBlueskySandbox({ accessTokenTtlSeconds: 2 });
    connector = createBlueskyConnector({
      service: sandbox.url,
      identifier: sandbox.account.handle,
      appPassword: sandbox.appPassword,
    });
    await connector.verifyCredentials();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const found = sandbox.addPost({ text: 'kkexpired still here', author: { handle: 'hana' } });
    expect((await connector.poll(source('kkexpired'), null)).posts.map((p) => p.id)).toEqual([found]);
    expect(sandbox.requestCount('/xrpc/com.atproto.server.refreshSession')).toBe(1);
    expect(sandbox.requestCount('/xrpc/com.atproto.server.createSession')).toBe(1);
  });
});
