import { randomBytes } from 'node:crypto';
import type { MatchRecord } from '@kikimimi/db';
import { createTestDb, matchMaker, NOW, type TestDb, WEB_ACTOR } from '@kikimimi/db/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDesk, type Desk, type DeskActor } from './desk.ts';
import { createJobQueues, type JobQueues } from './job-queues.ts';
import { JOBS } from './jobs.ts';
import { createOutboxRelay } from './outbox-relay.ts';

/*
 * Decisions taken while the queue is unreachable keep their jobs in PostgreSQL; the relay puts them on
 * the queues once Redis answers, with the catalogue's options and the ids that make them happen once.
 */

const REDIS_URL = process.env.KIKIMIMI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `kktest-desk-${randomBytes(4).toString('hex')}`;
const EDITOR: DeskActor = { ...WEB_ACTOR, kind: 'web', role: 'editor' };
const warnings: string[] = [];
const log = { warn: (_: Record<string, unknown>, message: string) => void warnings.push(message) };

let t: TestDb;
let newMatch: () => Promise<MatchRecord>;
let desk: Desk;
let redis: Redis;
let jobs: JobQueues;

beforeAll(async () => {
  t = await createTestDb('outbox');
  ({ newMatch } = await matchMaker(t, '6'));
  desk = createDesk({ repos: t.repos, now: () => NOW });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  jobs = createJobQueues(redis, prefix);
});
afterAll(async () => {
  await jobs?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis?.quit();
  await t?.drop();
});

const down = {
  enqueue: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  },
  ensure: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  },
};

describe('outbox relay', () => {
  it('keeps the jobs of decisions taken while Redis is down, then relays each once', async () => {
    const match = await newMatch();
    expect(await desk.reply(EDITOR, match.id, { text: 'ありがとうございます' })).toMatchObject({ ok: true });
    const offline = createOutboxRelay({ outbox: t.repos.outbox, jobs: down, log });
    await expect(offline.flush()).rejects.toThrow(/ECONNREFUSED/u);
    expect(await t.repos.outbox.pending()).toMatchObject({ count: 2 });
    const { rows } = await t.pool.query<{ attempts: number; last_error: string }>(
      'SELECT attempts, last_error FROM outbox',
    );
    expect(rows.every((r) => r.attempts === 1 && r.last_error.includes('ECONNREFUSED'))).toBe(true);

    const relay = createOutboxRelay({ outbox: t.repos.outbox, jobs, log });
    expect(await relay.flush()).toBe(2);
    expect(await relay.flush()).toBe(0);
    expect(await t.repos.outbox.pending()).toEqual({ count: 0, oldest: null });
    const reply = await jobs.queues.reply.getJob(`reply-${match.id}`);
    expect(reply?.data).toEqual({ matchId: match.id });
    expect(reply?.opts.attempts).toBe(JOBS.reply.options.attempts);
    expect(await jobs.queues.refresh.count()).toBe(1);
  });

  it('gives a batch up, keeping its rows, when the queue does not answer (Redis down, commands waiting)', async () => {
    const match = await newMatch();
    await desk.dismiss(EDITOR, match.id, {});
    const hanging = {
      enqueue: () => new Promise<never>(() => {}),
      ensure: () => new Promise<never>(() => {}),
    };
    const relay = createOutboxRelay({ outbox: t.repos.outbox, jobs: hanging, log, sendTimeoutMs: 200 });
    const started = Date.now();
    await expect(relay.flush()).rejects.toThrow(/did not answer within 200 ms/u);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await t.repos.outbox.pending()).count).toBe(1);
    // Nothing holds the rows any more: the real queue takes them.
    expect(await createOutboxRelay({ outbox: t.repos.outbox, jobs, log }).flush()).toBe(1);
  });

  it('relays a job once even when the same row is relayed again after a crash', async () => {
    const match = await newMatch();
    expect(await desk.dismiss(EDITOR, match.id, {})).toMatchObject({ ok: true });
    const { rows } = await t.pool.query('SELECT queue, job_id, payload FROM outbox');
    const relay = createOutboxRelay({ outbox: t.repos.outbox, jobs, log });
    await relay.flush();
    // The relay died after adding the job but before deleting its row: the row comes back.
    for (const row of rows)
      await t.pool.query('INSERT INTO outbox (queue, job_id, payload) VALUES ($1, $2, $3)', [
        row.queue,
        row.job_id,
        row.payload,
      ]);
    await relay.flush();
    expect(rows).toHaveLength(1);
    expect(await jobs.queues.refresh.count()).toBe(3); // the two tests' before and this one's
  });

  it('runs a failed job again when a reviewer retries the reply', async () => {
    const match = await newMatch();
    await desk.reply(EDITOR, match.id, { text: 'thanks' });
    const relay = createOutboxRelay({ outbox: t.repos.outbox, jobs, log });
    await relay.flush();
    // Its job failed for good (one attempt here, so that the test does not wait out the backoff).
    await (await jobs.queues.reply.getJob(`reply-${match.id}`))?.remove();
    await jobs.queues.reply.add('reply', { matchId: match.id }, { jobId: `reply-${match.id}`, attempts: 1 });
    const failing = new Worker(
      'reply',
      async () => {
        throw new Error('platform down');
      },
      { connection: redis.duplicate(), prefix, settings: { backoffStrategy: () => 1_000 } },
    );
    await new Promise<void>((resolve) => failing.on('failed', () => resolve()));
    await failing.close();
    expect(await (await jobs.queues.reply.getJob(`reply-${match.id}`))?.getState()).toBe('failed');
    const reply = await t.repos.replies.forMatch(match.id);
    await t.repos.replies.markFailed(reply?.id ?? '', 'platform down', NOW);
    expect(await desk.retryReply(EDITOR, match.id)).toMatchObject({ ok: true });
    await relay.flush();
    const state = await (await jobs.queues.reply.getJob(`reply-${match.id}`))?.getState();
    expect(['waiting', 'prioritized', 'delayed', 'wait']).toContain(state);
  });

  it('relays in the background, at once when nudged', async () => {
    const match = await newMatch();
    const relay = createOutboxRelay({ outbox: t.repos.outbox, jobs, log });
    const stop = new AbortController();
    const running = relay.run(stop.signal, 60_000);
    const nudged = createDesk({ repos: t.repos, now: () => NOW, afterCommit: () => relay.nudge() });
    await nudged.dismiss(EDITOR, match.id, {});
    for (let i = 0; i < 100 && (await t.repos.outbox.pending()).count > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await t.repos.outbox.pending()).toMatchObject({ count: 0 });
    stop.abort();
    await running;
  });
});
