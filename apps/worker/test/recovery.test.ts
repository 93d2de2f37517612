import { createDesk, createJobQueues, createOutboxRelay, type DeskActor, JOB_IDS } from '@kikimimi/desk';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestWorld, deleteKeys, REDIS_URL, type TestWorld, waitFor } from './world.ts';

/*
 * What Redis may lose — a job, the jobs of a decision taken while it was down, its whole data set —
 * kikimimi re-creates from PostgreSQL, the system of record: no decided reply stays unsent, and polling
 * never stops for good.
 */

const EDITOR: DeskActor = { kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' };
let world: TestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A match on X stored by a worker from a post on the X stand-in, then the worker stopped. */
async function storedMatch(w: TestWorld, text: string) {
  const postId = w.x.addPost({ text, author: { handle: 'reader' }, lang: 'ja' });
  const worker = await w.startWorker();
  const match = await waitFor(async () => {
    const [found] = (await w.repos.matches.list({ platform: 'x' }, { limit: 50 })).filter(
      (m) => m.postId === postId,
    );
    return found;
  }, 20_000);
  await worker.close();
  return { match, postId };
}

describe('recovery from what Redis loses', () => {
  it('a reply decided while no worker and no queue could take it is sent once a worker starts', async () => {
    world = await createTestWorld();
    const w = world;
    const { match, postId } = await storedMatch(w, 'shiorinote 同期できない');
    // The console decides with Redis down: the decision and its jobs wait together in PostgreSQL.
    const desk = createDesk({ repos: w.repos, now: () => new Date() });
    expect(await desk.reply(EDITOR, match.id, { text: 'ご不便をおかけしています' })).toMatchObject({
      ok: true,
    });
    expect((await w.repos.outbox.pending()).count).toBe(2);
    await w.startWorker();
    await waitFor(
      async () => (await w.repos.replies.forMatch(match.id))?.state === 'sent' || undefined,
      20_000,
    );
    expect(w.x.replies().filter((r) => r.inReplyTo === postId)).toHaveLength(1);
    expect((await w.repos.outbox.pending()).count).toBe(0);
  }, 90_000);

  it('a reply that failed retryably and then lost its job is sent by the sweeper', async () => {
    world = await createTestWorld();
    const w = world;
    const { match, postId } = await storedMatch(w, 'shiorinote ログインできない');
    const desk = createDesk({ repos: w.repos, now: () => new Date() });
    await desk.reply(EDITOR, match.id, { text: 'ご案内します' });
    // The job reaches the queue, fails once (the platform was down), then Redis loses it.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const jobs = createJobQueues(redis, w.prefix);
    try {
      await createOutboxRelay({ outbox: w.repos.outbox, jobs, log: { warn() {} } }).flush();
      const reply = await w.repos.replies.forMatch(match.id);
      await w.repos.replies.markFailed(reply?.id ?? '', 'HTTP 503 from the platform', new Date());
      await (await jobs.queues.reply.getJob(JOB_IDS.reply(match.id)))?.remove();
    } finally {
      await jobs.close();
      await redis.quit();
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    await w.startWorker({ sweepEveryMs: 300 });
    await waitFor(
      async () => (await w.repos.replies.forMatch(match.id))?.state === 'sent' || undefined,
      20_000,
    );
    expect(w.x.replies().filter((r) => r.inReplyTo === postId)).toHaveLength(1);
  }, 90_000);

  it('after Redis lost all its data, the poll schedulers come back and new posts arrive again', async () => {
    world = await createTestWorld();
    const w = world;
    await w.startWorker({ scheduleCheckMs: 500 });
    const first = w.x.addPost({ text: 'shiorinote 最高', author: { handle: 'one' }, lang: 'ja' });
    const seen = async (postId: string) =>
      (await w.repos.matches.list({ platform: 'x' }, { limit: 50 })).some((m) => m.postId === postId) ||
      undefined;
    await waitFor(() => seen(first), 20_000);
    // Everything kikimimi kept in Redis is gone (a restart without persistence, a FLUSHALL, a failover).
    await deleteKeys(REDIS_URL, w.prefix);
    const redis = new Redis(REDIS_URL);
    try {
      // The schedulers are asserted again (a poll already under way may still finish without them).
      await waitFor(
        async () =>
          ((await redis.keys(`${w.prefix}:poll:repeat:*`)).length > 0 &&
            (await redis.exists(`${w.prefix}:sweep:repeat:sweep`)) === 1) ||
          undefined,
        20_000,
        'the job schedulers to be back',
      );
    } finally {
      redis.disconnect();
    }
    for (const text of ['shiorinote 便利', 'shiorinote 使いやすい']) {
      const next = w.x.addPost({ text, author: { handle: 'later' }, lang: 'ja' });
      await waitFor(() => seen(next), 20_000, 'a post added after the loss');
    }
  }, 90_000);
});
