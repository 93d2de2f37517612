import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiscordSandbox } from '@kikimimi/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { kill, spawnWorker } from './processes.ts';
import { matchIdsOf } from './surge-scenario.ts';
import { createTestWorld, TEST_CONFIG, type TestWorld, waitFor } from './world.ts';

/**
 * These floods are hundreds of near-identical posts within seconds: with surges on they would (rightly)
 * become one surge. Here every post must get its own review message, so surges are off (the surge
 * path under faults: surge-announce-kill.test.ts and surges.test.ts).
 */
const NO_SURGES = { ...TEST_CONFIG, surges: { enabled: false } };

/**
 * What must hold whatever goes wrong: every matching post gets exactly one review message, and no
 * post is ever replied to twice. Workers run in processes of their own so they can be killed.
 */
let world: TestWorld | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => kill(child)));
  await world?.close();
  world = undefined;
});

type Message = ReturnType<DiscordSandbox['messages']>[number];
/** Review messages (in every review channel), grouped by the match they are for. */
function reviewMessagesByMatch(w: TestWorld): Map<string, Message[]> {
  const channels = new Set(
    ['review', 'review-x', 'review-mastodon'].map((name) => w.discord.channelId(name)),
  );
  const byMatch = new Map<string, Message[]>();
  for (const message of w.discord.messages()) {
    if (!channels.has(message.channelId) || message.ephemeral) continue;
    // Several reviews may share a message when they wait for the channel: the message counts for each.
    const ids = matchIdsOf(message);
    for (const id of ids.length > 0 ? ids : [String(message.nonce ?? message.id)])
      byMatch.set(id, [...(byMatch.get(id) ?? []), message]);
  }
  return byMatch;
}

type Match = Awaited<ReturnType<TestWorld['repos']['matches']['list']>>[number];

async function allMatches(w: TestWorld): Promise<Match[]> {
  const all: Match[] = [];
  let before: Match | undefined;
  for (;;) {
    const page = await w.repos.matches.list({}, { limit: 500, ...(before ? { before } : {}) });
    all.push(...page);
    if (page.length < 500) return all;
    before = page[page.length - 1];
  }
}

const countMatches = async (w: TestWorld) => (await allMatches(w)).length;

/**
 * Waits for the first poll of the X account's sources. A source's first poll starts "from now" (one
 * page of the newest posts, by design: a new watch is about what people say from then on), so a flow
 * that began before it — a worker slow to start on a loaded machine — would lose its oldest posts.
 */
async function firstPolled(w: TestWorld): Promise<void> {
  await waitFor(
    async () => {
      const states = await w.repos.sources.list(w.accounts.x);
      return states.length > 0 && states.every((state) => state.lastPolledAt !== null);
    },
    60_000,
    'the first poll of the X sources',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const random = (min: number, max: number) => min + Math.random() * (max - min);

/** Adds `count` matching posts to the stand-in X over about `seconds`. */
async function flow(w: TestWorld, count: number, seconds: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  const perTick = Math.ceil(count / (seconds * 5));
  while (ids.length < count) {
    for (let i = 0; i < perTick && ids.length < count; i++) {
      ids.push(
        w.x.addPost({
          text: `shiorinote ${tag} ${ids.length} ログインできない`,
          author: { handle: `u${ids.length % 97}` },
        }),
      );
    }
    await sleep(200);
  }
  return ids;
}

/** A reviewer answering review messages as they come (clicks fail while no worker holds the gateway). */
function startReviewer(
  w: TestWorld,
  upTo: number,
  stop: AbortSignal,
): { decided: Set<string>; done: Promise<void> } {
  const decided = new Set<string>();
  const alice = w.discord.userId('alice');
  const done = (async () => {
    while (!stop.aborted && decided.size < upTo) {
      const candidates = [...reviewMessagesByMatch(w).entries()].filter(([id]) => !decided.has(id));
      const next = candidates[Math.floor(Math.random() * candidates.length)];
      if (next === undefined) {
        await sleep(100);
        continue;
      }
      const [matchId, messages] = next;
      const message = messages[0];
      if (message === undefined) continue;
      try {
        const opened = await w.discord.clickButton({
          messageId: message.id,
          customId: `kk:r:${matchId}:guidance`,
          userId: alice,
        });
        if (opened.type !== 'modal' || opened.modal === null) {
          await sleep(200);
          continue;
        }
        const submitted = await w.discord.submitModal({
          customId: opened.modal.customId,
          userId: alice,
          messageId: message.id,
        });
        if (submitted.type === 'update' || submitted.type === 'reply') decided.add(matchId);
      } catch {
        await sleep(200);
      }
    }
  })();
  return { decided, done };
}

describe('faults', () => {
  it('SIGKILL at random points while 1,000 posts flow: one review message per match, no post replied to twice', async () => {
    world = await createTestWorld({ config: NO_SURGES });
    const w = world;
    const options = { ...w.workerOptions, leaseTtlMs: 1_500, sweepEveryMs: 1_000 };
    let current = await spawnWorker(options);
    children.push(current);
    await firstPolled(w);

    const stop = new AbortController();
    const reviewer = startReviewer(w, 40, stop.signal);
    const posting = flow(w, 1_000, 8, 'sigkill');
    let kills = 0;
    const chaos = (async () => {
      // At least 12 s and at least 4 kills, however slowly workers start on this machine.
      const until = Date.now() + 12_000;
      while (Date.now() < until || kills < 4) {
        await sleep(random(800, 2_000));
        await kill(current, 'SIGKILL');
        kills++;
        current = await spawnWorker(options);
        children.push(current);
      }
    })();
    const posted = await posting;
    await chaos;

    await waitFor(
      async () => (await countMatches(w)) === posted.length && reviewMessagesByMatch(w).size >= posted.length,
      90_000,
      'every match to have a review message',
    ).catch(async (error: Error) => {
      const messages = reviewMessagesByMatch(w);
      const duplicated = [...messages.values()].filter((m) => m.length > 1).length;
      throw new Error(
        `${error.message}: ${await countMatches(w)} matches stored for ${posted.length} posts, ${messages.size} with review messages (${duplicated} with more than one), ${kills} kills`,
      );
    });
    stop.abort();
    await reviewer.done;
    // Every decided reply goes out, once, even when its worker died mid-reply.
    await waitFor(
      async () => {
        for (const matchId of reviewer.decided) {
          const reply = await w.repos.replies.forMatch(matchId);
          if (reply?.state !== 'sent') return false;
        }
        return true;
      },
      60_000,
      'every decided reply to be sent',
    );

    const byMatch = reviewMessagesByMatch(w);
    expect(byMatch.size).toBe(posted.length);
    for (const [, messages] of byMatch) expect(messages).toHaveLength(1);
    const repliesByPost = new Map<string, number>();
    for (const reply of w.x.replies())
      repliesByPost.set(reply.inReplyTo, (repliesByPost.get(reply.inReplyTo) ?? 0) + 1);
    expect([...repliesByPost.values()].every((n) => n === 1)).toBe(true);
    // Each reply on X is a recorded, sent reply of its match. There are the ones the reviewer saw
    // confirmed and, at most one per kill, ones whose confirmation died with its worker after the
    // reply was recorded (the reviewer acts on one match at a time).
    const matchByPost = new Map((await allMatches(w)).map((m) => [m.postId, m]));
    for (const reply of w.x.replies()) expect(matchByPost.has(reply.inReplyTo ?? '')).toBe(true);
    await waitFor(
      async () => {
        for (const reply of w.x.replies()) {
          const match = matchByPost.get(reply.inReplyTo ?? '');
          if ((await w.repos.replies.forMatch(match?.id ?? ''))?.state !== 'sent') return false;
        }
        return true;
      },
      30_000,
      'every reply on X to be recorded as sent',
    );
    expect(w.x.replies().length).toBeGreaterThanOrEqual(reviewer.decided.size);
    expect(w.x.replies().length).toBeLessThanOrEqual(reviewer.decided.size + kills);
    expect(reviewer.decided.size).toBeGreaterThan(0);
  }, 240_000);

  it('two worker processes share the load without duplicate messages or replies', async () => {
    world = await createTestWorld({ config: NO_SURGES });
    const w = world;
    const options = { ...w.workerOptions, leaseTtlMs: 1_500 };
    children.push(await spawnWorker(options), await spawnWorker(options));
    await firstPolled(w);
    const stop = new AbortController();
    const reviewer = startReviewer(w, 20, stop.signal);
    const posted = await flow(w, 300, 3, 'pair');
    await waitFor(
      async () => reviewMessagesByMatch(w).size >= posted.length,
      120_000,
      'review messages',
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}: ${reviewMessagesByMatch(w).size} review messages, ${await countMatches(w)} matches stored for ${posted.length} posts`,
      );
    });
    await waitFor(() => reviewer.decided.size >= 20, 90_000, 'twenty decisions');
    stop.abort();
    await reviewer.done;
    await waitFor(() => w.x.replies().length >= reviewer.decided.size, 60_000, 'the replies');
    await sleep(1_000);
    for (const [, messages] of reviewMessagesByMatch(w)) expect(messages).toHaveLength(1);
    expect(reviewMessagesByMatch(w).size).toBe(posted.length);
    expect(new Set(w.x.replies().map((r) => r.inReplyTo)).size).toBe(w.x.replies().length);
    expect(w.x.replies().length).toBe(reviewer.decided.size);
  }, 330_000);

  it('platform 429, 5xx and malformed answers: the worker backs off and recovers, nothing is lost', async () => {
    world = await createTestWorld({ config: NO_SURGES });
    const w = world;
    await w.startWorker();
    await firstPolled(w);
    const first = await flow(w, 40, 1, 'before');
    w.x.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 2 }, path: '/2/tweets/search/recent' });
    w.x.faults.inject({ fault: { kind: 'status', status: 503 }, path: '/2/tweets/search/recent', times: 2 });
    w.x.faults.inject({ fault: { kind: 'malformed' }, path: '/2/tweets/search/recent', times: 2 });
    w.mastodon.faults.inject({ fault: { kind: 'status', status: 500 }, times: 3 });
    const second = await flow(w, 60, 1, 'during');
    const tooted = w.mastodon.addPost({
      text: 'しおりノート 同期されない #しおりノート',
      author: { handle: 'm1' },
      hashtags: ['しおりノート'],
    });
    await waitFor(
      async () => reviewMessagesByMatch(w).size >= first.length + second.length + 1,
      60_000,
      'all review messages',
    );
    const sourceStates = await w.repos.sources.list(w.accounts.x);
    expect(sourceStates.some((s) => s.cursor !== null)).toBe(true);
    expect(tooted).toBeTruthy();
    for (const [, messages] of reviewMessagesByMatch(w)) expect(messages).toHaveLength(1);
  }, 120_000);

  it('Discord unavailable for a while: review messages are delivered when it returns', async () => {
    world = await createTestWorld({ config: NO_SURGES });
    const w = world;
    await w.startWorker();
    await firstPolled(w);
    w.discord.setUnavailable(true);
    const posted = await flow(w, 30, 1, 'outage');
    await sleep(3_000);
    expect(reviewMessagesByMatch(w).size).toBe(0);
    w.discord.setUnavailable(false);
    await waitFor(
      () => reviewMessagesByMatch(w).size >= posted.length,
      90_000,
      'the delayed review messages',
    );
    for (const [, messages] of reviewMessagesByMatch(w)) expect(messages).toHaveLength(1);
  }, 150_000);

  it('Redis restarts mid-run: the pipeline resumes', async () => {
    const redis = await startOwnRedis();
    try {
      world = await createTestWorld({ redisUrl: redis.url, config: NO_SURGES });
      const w = world;
      await w.startWorker();
      await firstPolled(w);
      const before = await flow(w, 20, 1, 'before-restart');
      await waitFor(
        () => reviewMessagesByMatch(w).size >= before.length,
        30_000,
        'messages before the restart',
      );
      await redis.stop();
      const during = await flow(w, 20, 1, 'while-down');
      await sleep(1_000);
      await redis.start();
      const after = await flow(w, 20, 1, 'after-restart');
      const total = before.length + during.length + after.length;
      await waitFor(() => reviewMessagesByMatch(w).size >= total, 90_000, 'messages after the restart');
      for (const [, messages] of reviewMessagesByMatch(w)) expect(messages).toHaveLength(1);
    } finally {
      await world?.close();
      world = undefined;
      await redis.stop();
      await redis.cleanup();
    }
  }, 180_000);
});

/** A Redis server of the test's own (AOF on), so it can be stopped and started without touching the machine's. */
async function startOwnRedis() {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
  const dir = await mkdtemp(join(tmpdir(), 'kk-redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = createConnection(port);
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      10_000,
      'redis-server to listen',
    );
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (running !== null) await kill(running, 'SIGTERM');
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
