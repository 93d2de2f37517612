import { createHash } from 'node:crypto';
import {
  CONFIG_CHANNEL,
  escalateJobSchema,
  ingestJobSchema,
  notifyJobSchema,
  pollJobSchema,
  QUEUES,
  type QueueName,
  refreshJobSchema,
  replyJobSchema,
  sweepJobSchema,
} from '@kikimimi/db';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ZodType } from 'zod';
import type { WebDeps } from './context.ts';

/**
 * Counters with expiry in Redis (`<prefix>:limit:<sha256 of the key>`): INCR in a window that starts
 * with the first hit. Keys are hashed, so what users typed (a username) never becomes a Redis key.
 */
export function createRedisLimiter(redis: Redis, prefix: string): WebDeps['limiter'] {
  const keyOf = (key: string) =>
    `${prefix}:limit:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  return {
    async hit(key, windowSeconds) {
      const k = keyOf(key);
      const results = await redis.multi().set(k, '0', 'EX', windowSeconds, 'NX').incr(k).exec();
      const [error, count] = results?.[1] ?? [new Error('redis transaction aborted'), null];
      if (error) throw error;
      return Number(count);
    },
    async reset(key) {
      await redis.del(keyOf(key));
    },
  };
}

/** Announces a configuration change to every worker (they subscribe to `<prefix>:config-changed`). */
export function createConfigPublisher(redis: Redis, prefix: string): WebDeps['publishConfigChanged'] {
  return async () => {
    await redis.publish(
      `${prefix}:${CONFIG_CHANNEL}`,
      JSON.stringify({ at: new Date().toISOString(), by: 'web' }),
    );
  };
}

const SCHEMAS: Record<QueueName, ZodType> = {
  poll: pollJobSchema,
  ingest: ingestJobSchema,
  notify: notifyJobSchema,
  reply: replyJobSchema,
  refresh: refreshJobSchema,
  escalate: escalateJobSchema,
  sweep: sweepJobSchema,
};

/**
 * Job options per queue, as the worker itself enqueues: Discord-facing jobs retry for a long time with
 * the worker's custom backoff; a reply a limited number of times. A given jobId makes a job happen
 * once (BullMQ ignores a second add while the first is kept); refresh jobs are removed on completion so
 * the next decision can refresh again under the same id.
 */
export const JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  poll: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  },
  ingest: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1000,
    removeOnFail: 5000,
  },
  notify: { attempts: 1_000, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 1000 },
  reply: { attempts: 20, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 5000 },
  refresh: { attempts: 1_000, backoff: { type: 'custom' }, removeOnComplete: true, removeOnFail: 1000 },
  escalate: { attempts: 1_000, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 1000 },
  sweep: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
};

/** `enqueue` over BullMQ queues: the payload is checked against the job catalogue first. */
export function createEnqueue(queues: Readonly<Record<QueueName, Queue>>): WebDeps['enqueue'] {
  return async (queue, data, options = {}) => {
    if (!Object.hasOwn(QUEUES, queue)) throw new Error(`unknown queue ${JSON.stringify(queue)}`);
    const parsed = SCHEMAS[queue].safeParse(data);
    if (!parsed.success) {
      throw new Error(
        `a ${queue} job does not fit the catalogue: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    await queues[queue].add(queue, data, {
      ...JOB_OPTIONS[queue],
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
    });
  };
}
