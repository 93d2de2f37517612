import { JOB_NAMES } from '@kikimimi/desk';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningWorker, startWorker } from '../src/worker.ts';
import { productionOptions } from './takeover.ts';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

let world: TestWorld | undefined;
const workers: RunningWorker[] = [];
const events: QueueEvents[] = [];
afterEach(async () => {
  await Promise.all(events.splice(0).map((e) => e.close()));
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await world?.close();
  world = undefined;
});

describe('the job lock (production settings: 5 s, renewed every 2.5 s)', () => {
  it('a job that runs for several lock durations keeps its lock: no other worker takes it over', async () => {
    world = await createTestWorld();
    const w = world;
    const connection = new Redis(w.workerOptions.redisUrl, { maxRetriesPerRequest: null });
    const stalled: string[] = [];
    const started = new Map<string, number>();
    const durations: number[] = [];
    for (const name of JOB_NAMES) {
      const queueEvents = new QueueEvents(name, { connection: connection.duplicate(), prefix: w.prefix });
      queueEvents.on('stalled', ({ jobId }) => stalled.push(`${name}:${jobId}`));
      if (name === 'poll') {
        queueEvents.on('active', ({ jobId }) => started.set(jobId, Date.now()));
        queueEvents.on('completed', ({ jobId }) => {
          const at = started.get(jobId);
          if (at !== undefined) durations.push(Date.now() - at);
        });
      }
      await queueEvents.waitUntilReady();
      events.push(queueEvents);
    }
    connection.disconnect();
    // The platform answers one search after 12 s: that poll job lasts more than twice the lock.
    w.x.faults.inject({ fault: { kind: 'slow', delayMs: 12_000 }, path: '/2/tweets/search/recent' });
    const log = pino({ level: 'silent' });
    for (let i = 0; i < 2; i++) workers.push(await startWorker({ ...productionOptions(w), log }));
    await waitFor(
      () => stalled.length > 0 || durations.some((ms) => ms >= 12_000),
      60_000,
      'the slow poll to complete',
    );
    expect(stalled).toEqual([]);
    expect(Math.max(...durations)).toBeGreaterThanOrEqual(12_000);
  }, 120_000);
});
