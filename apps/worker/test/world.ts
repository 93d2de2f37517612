import { randomBytes } from 'node:crypto';
import { createDb, createRepositories, migrate, type Repositories } from '@kikimimi/db';
import type { ConfigInput } from '@kikimimi/rules';
import {
  type DiscordSandbox,
  type MastodonSandbox,
  startDiscordSandbox,
  startMastodonSandbox,
  startXSandbox,
  type XSandbox,
} from '@kikimimi/sandbox';
import { Redis } from 'ioredis';
import pino from 'pino';
import { type RunningWorker, startWorker, type WorkerOptions } from '../src/worker.ts';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

/** The example configuration of the tests: a fictional reading-log app. */
export const TEST_CONFIG: ConfigInput = {
  variables: { helpUrl: 'https://help.shiori-note.example.com/' },
  watches: [{ id: 'brand', name: 'しおりノート', query: 'しおりノート OR shiorinote' }],
  templates: [
    { id: 'thanks', category: 'thanks', text: '{author.name}さん、ありがとうございます！' },
    { id: 'apology', category: 'apology', text: '{author.name}さん、ご不便をおかけして申し訳ございません。' },
    { id: 'guidance', category: 'guidance', text: '{author.name}さん、こちらをご覧ください {vars.helpUrl}' },
  ],
  escalation: [
    {
      id: 'billing',
      when: { query: '返金 OR 解約' },
      actions: { route: 'billing', mentionRoles: ['billing-team'], priority: 'high' },
    },
  ],
  suppression: { authorCooldownHours: 0, maxAgeHours: 0 },
  routing: { defaultReviewChannel: 'review', platforms: { x: 'review-x', mastodon: 'review-mastodon' } },
};

export interface TestWorld {
  readonly schema: string;
  readonly prefix: string;
  readonly repos: Repositories;
  readonly x: XSandbox;
  readonly mastodon: MastodonSandbox;
  readonly discord: DiscordSandbox;
  readonly accounts: { readonly x: string; readonly mastodon: string };
  /** Worker options for this world (for starting workers in this process or in child processes). */
  readonly workerOptions: Omit<WorkerOptions, 'log'>;
  startWorker(overrides?: Partial<WorkerOptions>): Promise<RunningWorker>;
  close(): Promise<void>;
}

/**
 * A whole kikimimi world on this machine: its own PostgreSQL schema and Redis key prefix, the
 * stand-in X, Mastodon and Discord, accounts pointing at them and the test configuration.
 */
export async function createTestWorld(
  options: { config?: ConfigInput; pollIntervalSeconds?: number; redisUrl?: string } = {},
): Promise<TestWorld> {
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const id = randomBytes(4).toString('hex');
  const schema = `kk_test_${id}`;
  const prefix = `kk-test-${id}`;
  const database = createDb({ connectionString: DATABASE_URL, schema });
  await migrate(database.pool);
  const repos = createRepositories(database.db, { encryptionKey: ENCRYPTION_KEY });
  const [x, mastodon, discord] = await Promise.all([
    startXSandbox(),
    startMastodonSandbox(),
    startDiscordSandbox(),
  ]);

  const saved = await repos.config.replace(options.config ?? TEST_CONFIG, SYSTEM);
  if (!saved.ok) throw new Error(`test configuration refused: ${JSON.stringify(saved.problems)}`);
  await repos.discord.set(
    {
      guildId: discord.guild.id,
      channels: Object.fromEntries(
        ['review', 'review-x', 'review-mastodon', 'billing', 'engineering', 'pr'].map((name) => [
          name,
          discord.channelId(name),
        ]),
      ),
      reviewerRoleIds: [discord.roleId('reviewer')],
      roles: { 'billing-team': discord.roleId('billing-team'), oncall: discord.roleId('oncall') },
      locale: 'ja',
    },
    SYSTEM,
  );
  const interval = options.pollIntervalSeconds ?? 1;
  const xAccount = await repos.accounts.create(
    {
      platform: 'x',
      label: 'brand-x',
      baseUrl: x.url,
      credentials: { kind: 'oauth2', accessToken: x.bearerToken },
      pollIntervalSeconds: interval,
    },
    SYSTEM,
  );
  const mastodonAccount = await repos.accounts.create(
    {
      platform: 'mastodon',
      label: 'brand-mastodon',
      baseUrl: mastodon.url,
      credentials: { accessToken: mastodon.accessToken },
      pollIntervalSeconds: interval,
    },
    SYSTEM,
  );

  const workerOptions: Omit<WorkerOptions, 'log'> = {
    databaseUrl: DATABASE_URL,
    databaseSchema: schema,
    redisUrl,
    redisPrefix: prefix,
    encryptionKey: ENCRYPTION_KEY,
    discord: { token: discord.token, api: discord.apiUrl },
    metricsPort: 0,
    concurrency: 4,
    sweepEveryMs: 2_000,
    pollBackoffBaseMs: 250,
    jobLockMs: 3_000,
  };
  const workers: RunningWorker[] = [];
  return {
    schema,
    prefix,
    repos,
    x,
    mastodon,
    discord,
    accounts: { x: xAccount.id, mastodon: mastodonAccount.id },
    workerOptions,
    async startWorker(overrides = {}) {
      const worker = await startWorker({
        ...workerOptions,
        log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        ...overrides,
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled([x.close(), mastodon.close(), discord.close()]);
      await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await database.close();
      await deleteKeys(redisUrl, prefix).catch(() => {});
    },
  };
}

/** Removes every Redis key of a test prefix. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
