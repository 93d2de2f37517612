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

const EDITOR = { kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' } as const;

interface ThreadPost {
  post: { uri: string; author: { handle: string }; record: { text: string } };
  replies?: ThreadPost[];
}

/** The replies under a post on the Bluesky stand-in, read through its public XRPC API. */
async function repliesUnder(service: string, uri: string): Promise<ThreadPost[]> {
  const response = await fetch(
    `${service}/xrpc/app.bsky.feed.getPostThread?uri=${encodeURIComponent(uri)}&depth=2`,
  );
  if (!response.ok) throw new Error(`getPostThread answered ${response.status}`);
  return ((await response.json()) as { thread: ThreadPost }).thread.replies ?? [];
}

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
  it('with no account and no configuration, fills the inbox from stand-in platforms within seconds; on Bluesky our reply lands once and the customer answers', async () => {
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
      followEveryMs: 500,
      log: createLogger({ name: 'test', level: 'silent' }),
      // Customers answer at once (and every one of them), so the conversation shows within the test.
      demo: createDemoWorld({
        mode: 'auto',
        perMinute: 600,
        answers: { delayMs: () => 0, random: () => 0.5, everyMs: 200 },
      }),
    });
    try {
      const matches = await waitFor(
        async () => {
          const found = await repos.matches.list({}, { limit: 100 });
          return found.length >= 10 && new Set(found.map((m) => m.platform)).size === 3 ? found : null;
        },
        30_000,
        'demo matches on every platform',
      );
      expect(new Set(matches.map((m) => m.decision.intent)).size).toBeGreaterThan(1);
      const accounts = await repos.accounts.list();
      expect(accounts.map((a) => [a.platform, a.demo]).sort()).toEqual([
        ['bluesky', true],
        ['mastodon', true],
        ['x', true],
      ]);
      expect((await repos.config.current()).config.watches.length).toBeGreaterThan(0);

      // A reviewer answers a Bluesky customer: the reply is posted on the stand-in once, in her thread.
      const bluesky = accounts.find((a) => a.platform === 'bluesky');
      const stand = bluesky?.baseUrl ?? '';
      expect(stand).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
      expect(bluesky?.streamingUrl).toBe(stand);
      const match = await waitFor(
        async () =>
          (await repos.matches.list({ platform: 'bluesky' }, { limit: 100 })).find(
            (m) => m.decision.matched && !m.decision.suppressed,
          ) ?? null,
        30_000,
        'an open Bluesky match',
      );
      const text = 'Thank you for telling us! See https://help.shiori-note.example/ for the steps.';
      expect(await worker.desk.reply(EDITOR, match.id, { text })).toMatchObject({ ok: true });
      const sent = await waitFor(
        async () => {
          const reply = await repos.replies.forMatch(match.id);
          return reply?.state === 'sent' ? reply : null;
        },
        30_000,
        'the Bluesky reply to be sent',
      );
      const ours = await waitFor(
        async () => {
          const replies = await repliesUnder(stand, match.postId);
          return replies.length > 0 ? replies : null;
        },
        10_000,
        'our reply in the thread on the stand-in',
      );
      expect(ours.map((r) => [r.post.uri, r.post.record.text])).toEqual([[sent.platformReplyId, text]]);
      expect(ours[0]?.post.author.handle).toBe('kikimimi-support.bsky.social');

      // The demo customer answers our reply on Bluesky; the worker hears it and adds it to the case.
      const answer = await waitFor(
        async () => (await repos.cases.events(match.id)).find((e) => e.kind === 'answer') ?? null,
        30_000,
        "the customer's answer in the case",
      );
      expect(answer).toBeDefined();
      const after = await repliesUnder(stand, match.postId);
      expect(after.map((r) => r.post.uri)).toEqual([sent.platformReplyId]);
      expect(after[0]?.replies?.map((r) => r.post.author.handle)).toEqual([match.post.author.handle]);
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('is off for a platform once a real account is connected', () => {
    const base = { demo: false, enabled: true } as const;
    const account = (
      platform: 'x' | 'mastodon' | 'bluesky',
      extra: Partial<{ demo: boolean; enabled: boolean }> = {},
    ) => ({ ...base, ...extra, platform }) as unknown as Parameters<typeof demoPlatforms>[0][number];
    expect(demoPlatforms([], 'auto')).toEqual(['x', 'mastodon', 'bluesky']);
    expect(demoPlatforms([account('x')], 'auto')).toEqual(['mastodon', 'bluesky']);
    expect(demoPlatforms([account('bluesky')], 'auto')).toEqual(['x', 'mastodon']);
    expect(demoPlatforms([account('x', { demo: true })], 'auto')).toEqual(['x', 'mastodon', 'bluesky']);
    expect(demoPlatforms([account('x', { enabled: false })], 'auto')).toEqual(['x', 'mastodon', 'bluesky']);
    expect(demoPlatforms([account('x'), account('mastodon'), account('bluesky')], 'auto')).toEqual([]);
    expect(demoPlatforms([account('x'), account('mastodon')], 'on')).toEqual(['x', 'mastodon', 'bluesky']);
    expect(demoPlatforms([], 'off')).toEqual([]);
  });
});
