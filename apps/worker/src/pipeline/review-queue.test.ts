import { randomBytes, randomUUID } from 'node:crypto';
import { createJobQueues, type JobQueues } from '@kikimimi/desk';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReviewQueue, stepBack } from './review-queue.ts';

// The order review messages are sent in, on a real BullMQ queue in Redis (no worker: the queue's
// prioritized set is the order a worker takes them in).
const REDIS_URL = process.env.KIKIMIMI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `kktest-reviews-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let jobs: JobQueues;

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  jobs = createJobQueues(redis, prefix);
});
afterAll(async () => {
  await jobs?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis?.quit();
});

const order = async () =>
  (await jobs.queues.notify.getPrioritized()).map((job) => (job.data as { matchId: string }).matchId);

describe('the review queue', () => {
  it('sends released reviews first, then fresh ones, then those alike a surge, and held ones last', async () => {
    const reviews = createReviewQueue(jobs);
    const [fresh1, fresh2, alike, held, heldAlike, lost, fresh3] = Array.from({ length: 7 }, () =>
      randomUUID(),
    ) as [string, string, string, string, string, string, string];
    await reviews.notifyMany([fresh1, fresh2]);
    await reviews.notifyMany([alike], { alike: true });
    await reviews.notifyMany([held, heldAlike], { delayMs: 60_000 });
    expect(await order()).toEqual([fresh1, fresh2, alike]);
    // The surge said no: held ones now (promoted from their delay), before every fresh one, or after
    // them when they resemble it; one whose job is gone is queued again as released.
    await reviews.release([held, lost]);
    await reviews.release([heldAlike], { alike: true });
    await reviews.notify(fresh3);
    expect(await order()).toEqual([held, lost, fresh1, fresh2, fresh3, alike, heldAlike]);
    // Let go again (the surge asked twice): it keeps its place.
    await reviews.release([held]);
    expect(await order()).toEqual([held, lost, fresh1, fresh2, fresh3, alike, heldAlike]);
    expect(await jobs.queues.notify.getDelayedCount()).toBe(0);
    // A worker takes the first; a busy channel makes it step back (processors.ts: moved to delayed);
    // when it is due again it returns to the end of its own priority, not behind every other review.
    // A fresh one returns ahead of the fresh ones that came after it.
    const worker = new Worker('notify', null, { connection: redis, prefix, autorun: false });
    try {
      const token = randomUUID();
      const taken = await worker.getNextJob(token);
      if (taken === undefined) throw new Error('no review job to take');
      expect((taken.data as { matchId: string }).matchId).toBe(held);
      // (Back in half a second: not due before the next two are taken, however slow the machine.)
      await stepBack(taken, token, 500);
      // A fresh review stepping back keeps its turn over those that came after it.
      const first = await worker.getNextJob(token);
      if (first === undefined) throw new Error('no review job to take');
      expect((first.data as { matchId: string }).matchId).toBe(lost);
      await first.moveToCompleted('done', token, false);
      const second = await worker.getNextJob(token);
      if (second === undefined) throw new Error('no review job to take');
      expect((second.data as { matchId: string }).matchId).toBe(fresh1);
      await stepBack(second, token, 20);
      const late = randomUUID();
      await reviews.notify(late);
      await new Promise((resolve) => setTimeout(resolve, 700));
      // The worker takes the rest one by one (a due delayed job is put back as it takes the next).
      const rest: string[] = [];
      for (let next = await worker.getNextJob(token); next; next = await worker.getNextJob(token)) {
        rest.push((next.data as { matchId: string }).matchId);
        await next.moveToCompleted('done', token, false);
      }
      expect(rest).toEqual([held, fresh1, fresh2, fresh3, late, alike, heldAlike]);
    } finally {
      await worker.close();
    }
  });
});
