import type { Post } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordNotifier, nonceFor } from '../src/discord/notifier.ts';
import { DiscordBusyError, type DiscordPort } from '../src/discord/port.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { ingestDeps, surgeSummary, xPost } from './surge-scenario.ts';
import { createTestWorld, type TestWorld } from './world.ts';

/**
 * A review message's place is claimed before it is sent (so a retry after a crash finds the same
 * message). When Discord refuses the send before posting anything (a busy channel) the claim stays,
 * waiting: the next job that gets the channel may take it along in its message, and its own next
 * attempt sends where it was claimed.
 */
let world: TestWorld;
const ids: string[] = [];
let serial = 0;

const post = (text: string): Post => xPost(8_100_000 + ++serial, text);

beforeAll(async () => {
  world = await createTestWorld();
  const deps = ingestDeps(world, {
    notifyMany: async (matchIds) => void ids.push(...matchIds),
    review: async (matchIds) => void ids.push(...matchIds),
  });
  await ingestPosts(
    {
      accountId: world.accounts.x,
      posts: [
        post('shiorinote 本棚の並び替えが便利'),
        post('shiorinote バーコードが読めない'),
        post('shiorinote ログインできない'),
      ],
    },
    deps,
  );
}, 60_000);
afterAll(async () => {
  await world?.close();
});

const notifierWith = (discord: DiscordPort) =>
  createDiscordNotifier({
    store: world.repos,
    engines: createEngineProvider(world.repos.config),
    discord,
    metrics: createMetrics(),
    now: () => new Date(),
  });

describe('a review message refused by a busy channel', () => {
  it('keeps its claim, waiting, and is sent where it was claimed', async () => {
    expect(ids).toHaveLength(3);
    const [fresh, earlier] = ids as [string, string];
    const sent: string[] = [];
    const busy = notifierWith({
      async send() {
        throw new DiscordBusyError(700);
      },
      async edit() {},
      async thread() {
        throw new Error('no thread');
      },
    });
    await expect(busy.post(fresh)).rejects.toBeInstanceOf(DiscordBusyError);
    const waiting = await world.repos.reviews.getMessage(fresh);
    expect(waiting).toMatchObject({ nonce: nonceFor(fresh), messageId: null, groupedAt: null });
    // An earlier attempt claimed in another channel: that claim stays too.
    await world.repos.reviews.claimMessage(earlier, '424242', nonceFor(earlier));
    await expect(busy.post(earlier)).rejects.toBeInstanceOf(DiscordBusyError);
    expect(await world.repos.reviews.getMessage(earlier)).toMatchObject({
      channelId: '424242',
      messageId: null,
    });
    // The next attempt sends: where it is right now for the first, where it was claimed for the second.
    const ok = notifierWith({
      async send(channelId) {
        sent.push(channelId);
        return { id: String(9_000 + sent.length) };
      },
      async edit() {},
      async thread() {
        throw new Error('no thread');
      },
    });
    expect(await ok.post(fresh)).toBe('posted');
    expect(await ok.post(earlier)).toBe('posted');
    expect(sent).toEqual([waiting?.channelId, '424242']);
    expect(await world.repos.reviews.getMessage(fresh)).toMatchObject({
      channelId: sent[0],
      messageId: '9001',
    });
  });

  it("waits for a new surge's message before its thread, not for long", async () => {
    const id = ids[2] as string;
    const match = await world.repos.matches.get(id);
    if (match === null) throw new Error('the match is missing');
    const surge = (detectedAt: number, n: number) => surgeSummary(match, `surge:claim-${n}`, detectedAt);
    const sent: string[] = [];
    const notifier = notifierWith({
      async send(channelId) {
        sent.push(channelId);
        return { id: String(9_100 + sent.length) };
      },
      async edit() {},
      async thread() {
        throw new Error('no thread: the surge has no message');
      },
    });
    // Its surge started a moment ago and has no message yet: the review steps back (no claim).
    await world.repos.surges.record(surge(Date.now() - 2_000, 1), []);
    await expect(notifier.post(id)).rejects.toBeInstanceOf(DiscordBusyError);
    expect(await world.repos.reviews.getMessage(id)).toBeNull();
    expect(sent).toEqual([]);
    // Half a minute on without one: the review channel.
    await world.repos.surges.record({ ...surge(Date.now() - 31_000, 1), lastAt: Date.now() }, []);
    expect(await notifier.post(id)).toBe('posted');
    expect(sent).toHaveLength(1);
  });
});
