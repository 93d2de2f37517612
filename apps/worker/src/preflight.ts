import type { Redis } from 'ioredis';
import type pg from 'pg';
import { maskUrl } from './log.ts';

/** Thrown when a service kikimimi needs cannot be reached at start: a message for people, no stack. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

function timeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new StartupError(message)), ms);
    }),
  ]);
}

/** Checks PostgreSQL and Redis answer before anything starts, naming the one that does not. */
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
    await timeout(options.pool.query('select 1'), ms, `no answer within ${ms / 1000} s`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(`PostgreSQL at ${maskUrl(options.databaseUrl)} is unreachable: ${reason}`);
  }
  try {
    await timeout(options.redis.ping(), ms, `no answer within ${ms / 1000} s`);
  } catch (error) {
    const reason =
      options.lastRedisError?.()?.message ?? (error instanceof Error ? error.message : String(error));
    throw new StartupError(`Redis at ${maskUrl(options.redisUrl)} is unreachable: ${reason}`);
  }
}
