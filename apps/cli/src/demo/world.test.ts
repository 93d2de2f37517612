import { randomBytes } from 'node:crypto';
import { createDb, createRepositories, migrate } from '@kikimimi/db';
import { createLogger } from '@kikimimi/runtime';
import { startWorker } from '@kikimimi/worker';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoWorld, demoPlatforms } from './world.ts';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const schema = `kk_demo_${randomBytes(4).toString('hex')}`;
const prefix = `kk-demo-${randomBytes(4).toString('hex')}`;
const database = createDb({ connectionString: DATABASE_URL, schema });

afterAll(async () => {
  await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
});

async function waitFor<T>(check: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the demo world', () => {
  it('with no account and no configuration, fills the inbox from stand-in platforms within seconds', async () => {
    await migrate(database.pool);
    const repos = createRepositories(database.db, { encryptionKey: ENCRYPTION_KEY });
    const worker = await startWorker({
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      encryptionKey: ENCRYPTION_KEY,
      metricsPort: null,
      concurrency: 4,
      log: createLogger({ name: 'test', level: 'silent' }),
      demo: createDemoWorld({ mode: 'auto', perMinute: 600 }),
    });
    try {
      const matches = await waitFor(
        async () => {
          const found = await repos.matches.list({}, { limit: 100 });
          return found.length >= 10 && new Set(found.map((m) => m.platform)).size === 2 ? found : null;
        },
        30_000,
        'demo matches on both platforms',
      );
      expect(new Set(matches.map((m) => m.decision.intent)).size).toBeGreaterThan(1);
      const accounts = await repos.accounts.list();
      expect(accounts.map((a) => [a.platform, a.demo]).sort()).toEqual([
        ['mastodon', true],
        ['x', true],
      ]);
      expect((await repos.config.current()).config.watches.length).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
  }, 60_000);

  it('is off for a platform once a real account is connected', () => {
    const base = { demo: false, enabled: true } as const;
    const account = (platform: 'x' | 'mastodon', extra: Partial<{ demo: boolean; enabled: boolean }> = {}) =>
      ({ ...base, ...extra, platform }) as unknown as Parameters<typeof demoPlatforms>[0][number];
    expect(demoPlatforms([], 'auto')).toEqual(['x', 'mastodon']);
    expect(demoPlatforms([account('x')], 'auto')).toEqual(['mastodon']);
    expect(demoPlatforms([account('x', { demo: true })], 'auto')).toEqual(['x', 'mastodon']);
    expect(demoPlatforms([account('x', { enabled: false })], 'auto')).toEqual(['x', 'mastodon']);
    expect(demoPlatforms([account('x'), account('mastodon')], 'on')).toEqual(['x', 'mastodon']);
    expect(demoPlatforms([], 'off')).toEqual([]);
  });
});
