import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseEnv as readDotEnv } from 'node:util';
import { createDb } from '@kikimimi/db';
import { CONFIG_CHANNEL } from '@kikimimi/desk';
import { createLogger } from '@kikimimi/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebEnv } from '../src/env.ts';
import { type RunningWeb, startWeb } from '../src/main.ts';
import { createRedisLimiter } from '../src/redis.ts';
import { TEST_DATABASE_URL } from './harness.ts';

const REDIS_URL = process.env.KIKIMIMI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = randomBytes(32).toString('base64');

describe('loadWebEnv', () => {
  it('has defaults for local use', () => {
    const result = loadWebEnv({});
    expect(result).toEqual({
      ok: true,
      env: {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kikimimi',
        REDIS_URL: 'redis://127.0.0.1:6379',
        KIKIMIMI_DATA_DIR: '.kikimimi',
        KIKIMIMI_REDIS_PREFIX: 'kikimimi',
        HOST: '0.0.0.0',
        PORT: 3000,
        COOKIE_SECURE: false,
        DASHBOARD_CACHE_SECONDS: 60,
        LOG_LEVEL: 'info',
        TRUSTED_PROXIES: [],
        SESSION_MAX_AGE_HOURS: 24,
        ALLOW_PRIVATE_NETWORKS: false,
      },
    });
  });

  it('reads every variable', () => {
    const result = loadWebEnv({
      DATABASE_URL: 'postgresql://u@db/k',
      REDIS_URL: 'rediss://cache:6380',
      KIKIMIMI_ENCRYPTION_KEY: KEY,
      KIKIMIMI_REDIS_PREFIX: 'kk-prod',
      HOST: '127.0.0.1',
      PORT: '8080',
      COOKIE_SECURE: 'true',
      DASHBOARD_CACHE_SECONDS: '0',
      LOG_LEVEL: 'warn',
      TRUSTED_PROXIES: ' 127.0.0.1, 10.0.0.0/8 ,fd00::/8',
      SESSION_MAX_AGE_HOURS: '8',
      METRICS_TOKEN: 'a-long-enough-token',
      ALLOW_PRIVATE_NETWORKS: 'true',
    });
    expect(result.ok && result.env).toMatchObject({
      TRUSTED_PROXIES: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'],
      SESSION_MAX_AGE_HOURS: 8,
      METRICS_TOKEN: 'a-long-enough-token',
      ALLOW_PRIVATE_NETWORKS: true,
      PORT: 8080,
      COOKIE_SECURE: true,
      DASHBOARD_CACHE_SECONDS: 0,
      KIKIMIMI_ENCRYPTION_KEY: KEY,
    });
  });

  it('lists every bad variable at once, without repeating a secret', () => {
    const result = loadWebEnv({
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://x',
      KIKIMIMI_ENCRYPTION_KEY: 'too-short-secret-value',
      KIKIMIMI_REDIS_PREFIX: 'a:b',
      PORT: '70000',
      COOKIE_SECURE: 'maybe',
      DASHBOARD_CACHE_SECONDS: '1.5',
      LOG_LEVEL: 'loud',
      TRUSTED_PROXIES: '10.0.0.0/33,proxy.local',
      SESSION_MAX_AGE_HOURS: '0',
      METRICS_TOKEN: 'short-secret',
      ALLOW_PRIVATE_NETWORKS: 'perhaps',
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'DATABASE_URL',
      'REDIS_URL',
      'KIKIMIMI_ENCRYPTION_KEY',
      'KIKIMIMI_REDIS_PREFIX',
      'PORT',
      'COOKIE_SECURE',
      'DASHBOARD_CACHE_SECONDS',
      'LOG_LEVEL',
      'TRUSTED_PROXIES',
      'SESSION_MAX_AGE_HOURS',
      'METRICS_TOKEN',
      'ALLOW_PRIVATE_NETWORKS',
    ]);
    expect(problems.find((p) => p.startsWith('TRUSTED_PROXIES'))).toMatch(
      /"10\.0\.0\.0\/33" is not an IP address/u,
    );
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.join('\n')).not.toContain('too-short-secret-value');
    expect(problems.find((p) => p.startsWith('KIKIMIMI_ENCRYPTION_KEY'))).toMatch(/32 random bytes/u);
  });

  it('starts from .env.example as shipped (empty variables are unset)', () => {
    const shipped = readDotEnv(readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8'));
    const result = loadWebEnv(shipped);
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, env: { PORT: 3000, COOKIE_SECURE: false } });
    expect(result.ok && result.env.KIKIMIMI_ENCRYPTION_KEY).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    expect(loadWebEnv({ PORT: '', HOST: '' })).toMatchObject({
      ok: true,
      env: { PORT: 3000, HOST: '0.0.0.0' },
    });
  });
});

describe('the Redis limiter', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `kktest-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('counts hits in a window that starts with the first, under the prefix, with hashed keys', async () => {
    const limiter = createRedisLimiter(redis, prefix);
    expect(await limiter.hit('login:1.2.3.4:someone', 60)).toBe(1);
    expect(await limiter.hit('login:1.2.3.4:someone', 60)).toBe(2);
    expect(await limiter.hit('login:1.2.3.4:other', 60)).toBe(1);
    const keys = await redis.keys(`${prefix}:limit:*`);
    expect(keys).toHaveLength(2);
    expect(keys.join()).not.toContain('someone');
    const ttl = await redis.ttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    await limiter.reset('login:1.2.3.4:someone');
    expect(await limiter.hit('login:1.2.3.4:someone', 60)).toBe(1);
  });

  it('takes a hit back, never below zero', async () => {
    const limiter = createRedisLimiter(redis, prefix);
    expect(await limiter.hit('release', 60)).toBe(1);
    expect(await limiter.hit('release', 60)).toBe(2);
    for (let i = 0; i < 3; i++) await limiter.release('release');
    expect(await limiter.hit('release', 60)).toBe(1);
    await limiter.release('never-hit');
    expect(await limiter.hit('never-hit', 60)).toBe(1);
  });

  it('expires the window', async () => {
    const limiter = createRedisLimiter(redis, prefix);
    expect(await limiter.hit('short', 1)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await limiter.hit('short', 1)).toBe(1);
  });
});

describe('startWeb (real PostgreSQL, Redis, HTTP)', () => {
  const schema = `test_webmain_${randomBytes(4).toString('hex')}`;
  const prefix = `kktest-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  let logged = '';
  let web: RunningWeb;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        logged += String(chunk);
        callback();
      },
    });
    web = await startWeb({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      encryptionKey: KEY,
      host: '127.0.0.1',
      port: 0,
      log: createLogger({ name: 'kikimimi-web', level: 'info', destination }),
    });
  });
  afterAll(async () => {
    await web?.close(1000);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    const db = createDb({ connectionString: TEST_DATABASE_URL });
    await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  });

  it('migrates, listens and is healthy', async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
    const res = await fetch(`${web.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: true, redis: true });
    expect(await web.deps.repos.users.count()).toBe(0);
    expect(logged).toContain('web console listening');
    const root = await fetch(`${web.url}/`, { redirect: 'manual' });
    expect(root.headers.get('location')).toBe('/setup');
  });

  it('serves bull-board to an admin, with its assets, under the CSP', async () => {
    const user = await web.deps.repos.users.create(
      { username: 'ops', password: 'operations password', role: 'admin' },
      { kind: 'system', id: 't', name: 't' },
    );
    const session = await web.deps.repos.sessions.create(user.id, 3600);
    const cookie = `kk_session=${session.token}`;
    const board = await fetch(`${web.url}/admin/queues`, { headers: { cookie } });
    expect(board.status).toBe(200);
    const html = await board.text();
    expect(html).toContain('<base href="/admin/queues/"');
    // Nothing the CSP would block (bull-board asks Google Fonts for its typeface).
    expect(html).not.toMatch(/https?:\/\//u);
    // A way back to the console, and a logo that is there (and leads somewhere that exists).
    const uiConfig = JSON.parse(
      /<script id="__UI_CONFIG__" type="application\/json">([^<]*)<\/script>/u.exec(html)?.[1] ?? '{}',
    ) as {
      miscLinks?: { url: string }[];
      boardLogo?: { path: string };
    };
    expect(uiConfig.miscLinks?.map((l) => l.url)).toContain('/inbox');
    const logo = await fetch(
      new URL(uiConfig.boardLogo?.path ?? 'static/images/logo.svg', `${web.url}/admin/queues/`),
      {
        headers: { cookie },
      },
    );
    expect(logo.status).toBe(200);
    expect((await fetch(`${web.url}/admin/queues/`, { headers: { cookie } })).status).toBe(200);
    const script = /src="(static\/js\/main[^"]+\.js)"/u.exec(html)?.[1] as string;
    const asset = await fetch(`${web.url}/admin/queues/${script}`, { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/u);
    const api = await fetch(`${web.url}/admin/queues/api/queues`, { headers: { cookie } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual([
      'announce',
      'caseUpdate',
      'digest',
      'escalate',
      'follow',
      'ingest',
      'notify',
      'poll',
      'postChange',
      'refresh',
      'reply',
      'surge',
      'surgeEscalate',
      'surgeMessage',
      'sweep',
    ]);
    const anonymous = await fetch(`${web.url}/admin/queues/api/queues`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login/u);
  });

  it('relays the outbox to the worker’s queues with the prefix, once per job id, with the catalogue’s options', async () => {
    const write = (payload: Record<string, unknown>) =>
      web.deps.repos.desk.transaction((tx) =>
        tx.enqueue({ queue: 'reply', jobId: 'reply-m-1', payload }, new Date()),
      );
    await write({ matchId: 'm-1' });
    expect(await web.deps.relayOutbox()).toBe(true);
    await write({ matchId: 'm-1' });
    expect(await web.deps.relayOutbox()).toBe(true);
    const queue = new Queue('reply', { connection: redis, prefix });
    try {
      const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(jobs.map((j) => j.id)).toEqual(['reply-m-1']);
      expect(jobs[0]?.data).toEqual({ matchId: 'm-1' });
      expect(jobs[0]?.opts).toMatchObject({ attempts: 20, removeOnComplete: 1000 });
    } finally {
      await queue.close();
    }
    // A payload that does not fit the catalogue is not queued: it stays in the outbox, visible.
    await web.deps.repos.desk.transaction((tx) =>
      tx.enqueue({ queue: 'escalate', jobId: 'escalate-m-1', payload: { matchId: 'm-1' } }, new Date()),
    );
    expect(await web.deps.relayOutbox()).toBe(false);
    expect((await web.deps.repos.outbox.pending()).count).toBe(1);
    await web.deps.repos.outbox.relay(10, async () => {});
  });

  it('announces configuration changes on the workers’ channel', async () => {
    const subscriber = new Redis(REDIS_URL);
    try {
      const received = new Promise<string>((resolve) =>
        subscriber.on('message', (channel) => resolve(channel)),
      );
      await subscriber.subscribe(`${prefix}:${CONFIG_CHANNEL}`);
      await web.deps.publishConfigChanged();
      expect(await received).toBe(`${prefix}:${CONFIG_CHANNEL}`);
    } finally {
      await subscriber.quit();
    }
  });

  it('fails to start on a port in use, closing what it opened', async () => {
    const port = Number(new URL(web.url).port);
    await expect(
      startWeb({
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        redisUrl: REDIS_URL,
        redisPrefix: prefix,
        encryptionKey: KEY,
        host: '127.0.0.1',
        port,
        migrate: false,
        log: createLogger({ name: 'kikimimi-web', level: 'silent' }),
      }),
    ).rejects.toThrow(/EADDRINUSE/u);
  });

  it('stops gracefully: a request under way finishes, new connections are refused', async () => {
    const other = await startWeb({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      encryptionKey: KEY,
      host: '127.0.0.1',
      port: 0,
      migrate: false,
      log: createLogger({ name: 'kikimimi-web', level: 'silent' }),
    });
    const url = other.url;
    const pending = fetch(`${url}/healthz`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await other.close(2000);
    expect((await pending).status).toBe(200);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
