import {
  type Account,
  type BlueskyNetwork,
  startBlueskyNetwork,
} from '@kikimimi/connectors/test/bluesky-network';
import type { MatchRecord } from '@kikimimi/db';
import { createDesk, type DeskActor } from '@kikimimi/desk';
import type { DiscordSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFor } from '../src/connectors.ts';
import type { RunningWorker } from '../src/worker.ts';
import { textDisplaysOf } from './surge-scenario.ts';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/*
 * Bluesky end to end against Bluesky's own reference servers (@atproto/dev-env: PLC directory, PDS,
 * AppView), not a stand-in: a kikimimi world whose Bluesky account signs in to the network's PDS,
 * searches its AppView and streams its firehose, with the Discord stand-in for the review desk.
 * "alice" is a customer; "desk" is the brand's Bluesky account. One network for the file.
 */

const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;
const EDITOR: DeskActor = { kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' };

let bsky: BlueskyNetwork;
let alice: Account;
let desk: Account;
let world: TestWorld;
let accountId: string;
let worker: RunningWorker | null = null;

const start = async () => {
  worker = await world.startWorker({
    followEveryMs: 500,
    leaseTtlMs: 2_000,
    bluesky: { plcUrl: bsky.net.plc.url, identityFetch: globalThis.fetch },
  });
};
const stop = async () => {
  await worker?.close();
  worker = null;
};

beforeAll(async () => {
  bsky = await startBlueskyNetwork();
  alice = await bsky.createAccount('alice');
  desk = await bsky.createAccount('desk');
  world = await createTestWorld();
  const account = await world.repos.accounts.create(
    {
      platform: 'bluesky',
      label: 'brand-bluesky',
      baseUrl: bsky.net.pds.url,
      // The PDS's own firehose stands in for the relay (an http(s) address means ws(s)).
      streamingUrl: bsky.net.pds.url,
      credentials: { identifier: desk.handle, appPassword: desk.appPassword },
      pollIntervalSeconds: 1,
    },
    SYSTEM,
  );
  accountId = account.id;
  await start();
}, 180_000);

afterAll(async () => {
  await world?.close();
  await bsky?.close();
}, 60_000);

type SandboxMessage = ReturnType<DiscordSandbox['messages']>[number];
const embedText = (message: SandboxMessage) => JSON.stringify(message.embeds);
/** Review messages of the post saying `text` (its own text: later ones of the author quote it as history). */
const reviewMessages = (text: string) =>
  world.discord.messages().filter(
    (m) =>
      m.channelId === world.discord.channelId('review') &&
      (m.embeds.some((e) => typeof e.description === 'string' && e.description.includes(text)) ||
        // Reviews that waited for the channel share a message, each in a text display of its own.
        textDisplaysOf(m).some((shown) => shown.includes(text))),
  );

async function post(account: Account, text: string) {
  const created = await account.agent.post({ text, createdAt: new Date().toISOString() });
  await bsky.net.processAll();
  return created;
}

async function matchOf(postId: string, timeoutMs = 30_000): Promise<MatchRecord> {
  return waitFor(
    async () =>
      (await world.repos.matches.list({ platform: 'bluesky' }, { limit: 100 })).find(
        (m) => m.postId === postId,
      ),
    timeoutMs,
    `a match for ${postId}`,
  );
}

/** Our account's replies under `uri` on the AppView. */
async function ourRepliesUnder(uri: string) {
  await bsky.net.processAll();
  const thread = await alice.agent.getPostThread({ uri, depth: 5 });
  const replies =
    (thread.data.thread as { replies?: Array<{ post: { uri: string; record: { text?: string } } }> })
      .replies ?? [];
  return replies.filter((r) => r.post.uri.startsWith(`at://${desk.did}/`));
}

describe('Bluesky through kikimimi, against the reference network', () => {
  it("a customer's post becomes one review message; the reviewer's reply lands once in the thread; her answer is followed", async () => {
    const question = await post(alice, 'shiorinote lost my whole shelf after the update');
    const review = await world.discord.waitForMessage(
      (m) =>
        m.channelId === world.discord.channelId('review') && embedText(m).includes('lost my whole shelf'),
      30_000,
    );
    expect(embedText(review)).toContain('alice.test');
    expect(embedText(review)).toContain('https://bsky.app/profile/alice.test/post/');

    const reviewer = world.discord.userId('alice');
    const replyButton = (review.components as Array<{ components: Array<{ custom_id?: string }> }>)
      .flatMap((row) => row.components)
      .find((b) => b.custom_id?.startsWith('kk:r:'))?.custom_id;
    const opened = await world.discord.clickButton({
      messageId: review.id,
      customId: replyButton ?? '',
      userId: reviewer,
    });
    expect(opened.type).toBe('modal');
    const text = 'Sorry about your shelf! Please see https://help.shiori-note.example.com/ — we are on it.';
    await world.discord.submitModal({
      customId: opened.modal?.customId ?? '',
      userId: reviewer,
      values: { text },
      messageId: review.id,
    });

    const match = await matchOf(question.uri);
    const sent = await waitFor(
      async () => {
        const reply = await world.repos.replies.forMatch(match.id);
        return reply?.state === 'sent' ? reply : undefined;
      },
      30_000,
      'the reply to be sent',
    );
    const ours = await ourRepliesUnder(question.uri);
    expect(ours.map((r) => r.post.record.text)).toEqual([text]);
    expect(sent.platformReplyId).toBe(ours[0]?.post.uri);
    // Found by every search poll since, yet one review message.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(reviewMessages('lost my whole shelf')).toHaveLength(1);

    // The customer answers our reply on Bluesky: the answer reaches the case thread in Discord.
    const oursUri = ours[0]?.post.uri as string;
    const oursCid = (await alice.agent.getPosts({ uris: [oursUri] })).data.posts[0]?.cid as string;
    await alice.agent.post({
      text: 'thank you so much, it is back now!',
      reply: { root: { uri: question.uri, cid: question.cid }, parent: { uri: oursUri, cid: oursCid } },
      createdAt: new Date().toISOString(),
    });
    await bsky.net.processAll();
    const thread = await world.discord.waitForThread(review.id, 30_000);
    await world.discord.waitForMessage(
      (m) => m.channelId === thread.id && m.content.includes('it is back now'),
      30_000,
    );
  }, 120_000);

  it('a reply whose first attempt posted and then crashed is not posted twice when the job runs again', async () => {
    const question = await post(alice, 'shiorinote will not sync my notes since this morning');
    const match = await matchOf(question.uri);
    await stop();

    // Decided from the console while no worker runs; then "the first attempt": the connector posts
    // with the reply's idempotency key, and the worker dies before it records the reply as sent.
    const decided = await createDesk({ repos: world.repos, now: () => new Date() }).reply(EDITOR, match.id, {
      text: 'Sorry! Syncing is fixed in 2.4.1.',
    });
    expect(decided).toMatchObject({ ok: true });
    const pending = await world.repos.replies.forMatch(match.id);
    expect(pending?.state).toBe('pending');
    const account = await world.repos.accounts.get(accountId);
    if (account === null) throw new Error('no account');
    const crashed = await connectorFor(account, await world.repos.accounts.credentials(accountId), {
      plcUrl: bsky.net.plc.url,
      identityFetch: globalThis.fetch,
    }).reply(
      { postId: match.postId, url: match.post.url, authorHandle: match.post.author.handle },
      pending?.text ?? '',
      { idempotencyKey: pending?.idempotencyKey ?? '' },
    );

    await start();
    const sent = await waitFor(
      async () => {
        const reply = await world.repos.replies.forMatch(match.id);
        return reply?.state === 'sent' ? reply : undefined;
      },
      30_000,
      'the retried reply to be recorded',
    );
    expect(sent.platformReplyId).toBe(crashed.id);
    expect((await ourRepliesUnder(question.uri)).map((r) => r.post.uri)).toEqual([crashed.id]);
  }, 120_000);

  it('the stream delivers posts, resumes from its cursor after a worker restart without losing one, and closes the match of a deleted post', async () => {
    // (A worker closed within milliseconds of its start can hang in close(): let it settle first.)
    await waitFor(async () => (await searchPolls()).length > 0, 20_000, 'the first search polls');
    await stop();
    // Streaming on, searching (almost) off: what arrives now comes from the firehose.
    await world.repos.accounts.update(
      accountId,
      { streamEnabled: true, pollIntervalSeconds: 86_400 },
      SYSTEM,
    );
    await start();

    // Give the stream a moment to connect, then a post while it listens.
    await new Promise((r) => setTimeout(r, 1_500));
    const live = await post(alice, 'shiorinote streamed post number one');
    await matchOf(live.uri);
    // Its position is stored with it.
    const stored = await waitFor(
      async () => (await world.repos.sources.get(accountId, 'bluesky-firehose'))?.cursor,
      15_000,
      'the stream cursor',
    );
    expect(stored).toMatch(/^\d+:\d+$/u);

    // While no worker listens: two matching posts and one that matches nothing.
    await stop();
    const stoppedAt = new Date();
    const missedA = await post(alice, 'shiorinote streamed while nobody listened, first');
    await post(alice, 'an unrelated post about lunch');
    const missedB = await post(alice, 'shiorinote streamed while nobody listened, second');
    await start();
    await matchOf(missedA.uri);
    await matchOf(missedB.uri);
    await waitFor(
      async () => {
        const cursor = (await world.repos.sources.get(accountId, 'bluesky-firehose'))?.cursor;
        return cursor !== stored && cursor;
      },
      15_000,
      'the stream cursor to move on',
    );
    const texts = ['streamed post number one', 'nobody listened, first', 'nobody listened, second'];
    for (const text of texts)
      await waitFor(() => reviewMessages(text).length > 0, 20_000, `review of ${text}`);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const text of texts) expect(reviewMessages(text), text).toHaveLength(1);
    // The author deletes one: the stream says so and its unanswered match is closed.
    await alice.agent.deletePost(missedA.uri);
    await waitFor(
      async () => (await matchOf(missedA.uri)).status === 'deleted',
      20_000,
      'the deleted post to close its match',
    );

    // No search poll ran since they were posted: the resumed stream alone brought them.
    const polls = await searchPolls();
    expect(polls.length).toBeGreaterThan(0);
    for (const last of polls)
      expect(last < stoppedAt, `${last.toISOString()} < ${stoppedAt.toISOString()}`).toBe(true);
  }, 120_000);
});

/** When each of the account's search sources last polled. */
async function searchPolls(): Promise<Date[]> {
  const states = (await world.repos.sources.list(accountId)).filter((s) =>
    s.sourceKey.startsWith('bluesky-search-'),
  );
  return states.flatMap((s) => (s.lastPolledAt === null ? [] : [s.lastPolledAt]));
}
