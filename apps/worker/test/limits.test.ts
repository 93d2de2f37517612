import { JOB_IDS } from '@kikimimi/desk';
import { startXSandbox } from '@kikimimi/sandbox';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, REDIS_URL, type TestWorld, waitFor } from './world.ts';

/*
 * X's 24-hour posting cap per account: once spent, a reply waits for the reset X announced instead of
 * being retried every few minutes for a day, and reviewers see why and until when.
 */
let world: TestWorld;
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;
const EDITOR = { kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' } as const;

beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.close();
});

describe('daily reply caps', () => {
  it('waits for the 24-hour reset X gives, and says so on the reply', async () => {
    const x = await startXSandbox({ userDailyPostLimit: 1 });
    try {
      await world.repos.accounts.update(
        world.accounts.x,
        { baseUrl: x.url, credentials: { kind: 'oauth2', accessToken: x.bearerToken } },
        SYSTEM,
      );
      const worker = await world.startWorker();
      const posts = [
        x.addPost({ text: 'shiorinote 使い方を教えて', author: { handle: 'first' }, lang: 'ja' }),
        x.addPost({ text: 'shiorinote ログインできない', author: { handle: 'second' }, lang: 'ja' }),
      ];
      const matches = await waitFor(async () => {
        const found = (await world.repos.matches.list({ platform: 'x' }, { limit: 50 })).filter((m) =>
          posts.includes(m.postId),
        );
        return found.length === 2 ? found : undefined;
      }, 20_000);
      for (const match of matches) {
        expect(await worker.desk.reply(EDITOR, match.id, { text: 'ご案内します' })).toMatchObject({
          ok: true,
        });
      }
      const replies = await waitFor(async () => {
        const all = await Promise.all(matches.map((m) => world.repos.replies.forMatch(m.id)));
        return all.some((r) => r?.state === 'sent') && all.some((r) => r?.state === 'failed')
          ? all
          : undefined;
      }, 20_000);
      const capped = replies.find((r) => r?.state === 'failed');
      expect(capped?.error).toMatch(/24-hour posting cap.*resets at/u);
      expect(x.replies()).toHaveLength(1);
      // Its job waits about a day (X's reset), not the usual seconds of backoff.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const queue = new Queue('reply', { connection: redis, prefix: world.prefix });
      try {
        const id = JOB_IDS.reply(capped?.matchId ?? '');
        // The reply is recorded as failed before BullMQ moves its job to the delayed set: wait for that.
        await waitFor(
          async () => (await (await queue.getJob(id))?.getState()) === 'delayed',
          20_000,
          'the reply job delayed',
        );
        // When it is due: the delayed set's score (BullMQ keeps the time × 4096 + a counter there).
        const score = Number(await redis.zscore(`${world.prefix}:reply:delayed`, id));
        expect(Math.floor(score / 4096) - Date.now()).toBeGreaterThan(23 * 3_600_000);
      } finally {
        await queue.close();
        await redis.quit();
      }
    } finally {
      await x.close();
    }
  }, 90_000);
});
