import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { preflight, StartupError } from './preflight.ts';

const DATABASE_URL = process.env.KIKIMIMI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.KIKIMIMI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function check(databaseUrl: string, redisUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  pool.on('error', () => {});
  const redis = new Redis(redisUrl, {
    lazyConnect: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastRedisError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastRedisError = error;
  });
  try {
    await preflight({
      pool,
      databaseUrl,
      redis,
      redisUrl,
      lastRedisError: () => lastRedisError,
      timeoutMs: 3_000,
    });
    return null;
  } catch (error) {
    return error;
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

describe('preflight (real PostgreSQL and Redis)', () => {
  it('passes when both answer', async () => {
    expect(await check(DATABASE_URL, REDIS_URL)).toBeNull();
  });

  it('names an unreachable PostgreSQL, with the password masked', async () => {
    const error = await check('postgres://kikimimi:s3cret@127.0.0.1:1/kikimimi', REDIS_URL);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      /^PostgreSQL at postgres:\/\/kikimimi:\*\*\*@127\.0\.0\.1:1\/kikimimi is unreachable: .*ECONNREFUSED/u,
    );
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('names an unreachable Redis with its own reason, the password masked', async () => {
    const error = await check(DATABASE_URL, 'redis://:s3cret@127.0.0.1:1');
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is unreachable: .*ECONNREFUSED/u,
    );
    expect((error as Error).message).not.toContain('s3cret');
  });
});
