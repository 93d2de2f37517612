import type { Redis } from 'ioredis';
import type pg from 'pg';

/** Thrown when a service the console needs cannot be reached at start: a message for people, no stack. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** A connection string with its password masked, for messages. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
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

/** Checks that PostgreSQL and Redis answer before the console starts, naming the one that does not. */
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
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(`PostgreSQL at ${maskUrl(options.databaseUrl)} is unreachable: ${reason}`);
  }
  try {
    await within(options.redis.ping(), ms);
  } catch (error) {
    const reason =
      options.lastRedisError?.()?.message ?? (error instanceof Error ? error.message : String(error));
    throw new StartupError(`Redis at ${maskUrl(options.redisUrl)} is unreachable: ${reason}`);
  }
}
