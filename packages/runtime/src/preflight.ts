import type { Redis } from 'ioredis';
import type pg from 'pg';
import { maskUrl, redactSecrets } from './secrets.ts';

/**
 * A start-up failure to show people as it is: what is wrong and what to do, no stack, no secret.
 * The CLI prints its message and exits non-zero.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const reasonOf = (error: unknown) => redactSecrets(error instanceof Error ? error.message : String(error));

/** Checks that PostgreSQL and Redis answer before anything starts, naming the one that does not. */
export async function preflight(options: {
  pool: pg.Pool;
  databaseUrl: string;
  redis: Redis;
  redisUrl: string;
  /** The last connection error Redis reported, if any (a better reason than a timeout). */
  lastRedisError?: () => Error | undefined;
  timeoutMs?: number;
}): Promise<void> {
  const ms = options.timeoutMs ?? 5_000;
  try {
    await within(options.pool.query('select 1'), ms);
  } catch (error) {
    throw new StartupError(
      `PostgreSQL at ${maskUrl(options.databaseUrl)} is unreachable: ${reasonOf(error)}`,
    );
  }
  try {
    await within(options.redis.ping(), ms);
  } catch (error) {
    throw new StartupError(
      `Redis at ${maskUrl(options.redisUrl)} is unreachable: ${reasonOf(options.lastRedisError?.() ?? error)}`,
    );
  }
}
