import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createDb, createRepositories, ensureDatabase, migrate, parseEncryptionKey } from '@kikimimi/db';
import { createDesk, createJobQueues, createOutboxRelay } from '@kikimimi/desk';
import { maskUrl, preflight } from '@kikimimi/runtime';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createApp } from './app.ts';
import { createQueueBoard } from './bull-board.ts';
import type { AppEnv, WebDeps } from './context.ts';
import { createRedisLiveMatches } from './live.ts';
import { createConfigPublisher, createRedisLimiter } from './redis.ts';

export interface WebOptions {
  readonly databaseUrl: string;
  /** Work inside this PostgreSQL schema (tests). */
  readonly databaseSchema?: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** The credentials key (the worker's). */
  readonly encryptionKey: string;
  /** Default 0.0.0.0. */
  readonly host?: string;
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Secure cookies and HSTS (behind HTTPS). */
  readonly secureCookies?: boolean;
  /** How long the dashboard's figures are reused, in seconds (default 60; 0: every request). */
  readonly dashboardCacheSeconds?: number;
  /** Apply pending migrations at start (default true). */
  readonly migrate?: boolean;
  /** Trusted proxies, session lifetime, metrics token, private networks (see securityOptionsOf). */
  readonly trustedProxies?: readonly string[];
  readonly sessionMaxAgeSeconds?: number;
  readonly metricsToken?: string;
  readonly allowPrivateNetworks?: boolean;
  readonly log: Logger;
}

export interface RunningWeb {
  /** Where it listens, e.g. http://127.0.0.1:3000 (0.0.0.0 is shown as 127.0.0.1). */
  readonly url: string;
  readonly app: Hono<AppEnv>;
  readonly deps: WebDeps;
  /** Stops accepting connections, finishes requests under way (at most `graceMs`), then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Resolves false when `promise` takes longer than `ms` or fails. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The composition root of the console: database, Redis, queues, bull-board, metrics, HTTP server. */
export async function startWeb(options: WebOptions): Promise<RunningWeb> {
  const { log } = options;
  // A wrong key is found before anything is opened.
  parseEncryptionKey(options.encryptionKey, 'the encryption key');
  // A first run on a fresh PostgreSQL: create the database (preflight reports anything else).
  if ((await ensureDatabase(options.databaseUrl).catch(() => 'unknown')) === 'created') {
    log.info({ database: maskUrl(options.databaseUrl) }, 'created the database');
  }
  const database = createDb({
    connectionString: options.databaseUrl,
    applicationName: 'kikimimi-web',
    ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
    onIdleError: (error) => log.warn({ error: error.message }, 'idle database connection lost'),
  });

  // BullMQ wants a connection that waits for Redis forever; rate limits, pub/sub and health checks
  // should fail fast instead, so they get their own.
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  let redisDown = false;
  let lastRedisError: Error | undefined;
  const onRedisError = (error: Error) => {
    lastRedisError = error;
    if (!redisDown) log.warn({ error: error.message }, 'redis unavailable; reconnecting');
    redisDown = true;
  };
  connection.on('error', onRedisError);
  commands.on('error', onRedisError);
  commands.on('ready', () => {
    if (redisDown) log.info('redis available again');
    redisDown = false;
  });
  try {
    await preflight({
      pool: database.pool,
      databaseUrl: options.databaseUrl,
      redis: commands,
      redisUrl: options.redisUrl,
      lastRedisError: () => lastRedisError,
    });
    if (options.migrate !== false) await migrate(database.pool);
  } catch (error) {
    connection.disconnect();
    commands.disconnect();
    await database.close().catch(() => {});
    throw error;
  }
  const repos = createRepositories(database.db, { encryptionKey: options.encryptionKey });

  const prefix = options.redisPrefix;
  const jobs = createJobQueues(connection, prefix, onRedisError);
  const queues = jobs.queues;
  const relay = createOutboxRelay({ outbox: repos.outbox, jobs, log });

  const live = await createRedisLiveMatches(
    new Redis(options.redisUrl, { maxRetriesPerRequest: null }).on('error', onRedisError),
    commands,
    prefix,
    log,
  );

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'kikimimi_web_' });

  const deps: WebDeps = {
    repos,
    desk: createDesk({ repos, now: () => new Date() }),
    // A decision's response waits a moment for its jobs to reach the queue; when Redis is down they
    // stay in the outbox (with the decision) and the worker's relay sends them once it is back.
    relayOutbox: () => within(relay.flush(), 1_500),
    publishConfigChanged: createConfigPublisher(commands, prefix),
    limiter: createRedisLimiter(commands, prefix),
    live,
    now: () => new Date(),
    log,
    metrics,
    secureCookies: options.secureCookies ?? false,
    ...(options.dashboardCacheSeconds === undefined
      ? {}
      : { dashboardCacheMs: options.dashboardCacheSeconds * 1000 }),
    bullBoard: createQueueBoard(Object.values(queues)),
    trustedProxies: options.trustedProxies ?? [],
    ...(options.sessionMaxAgeSeconds === undefined
      ? {}
      : { sessionMaxAgeSeconds: options.sessionMaxAgeSeconds }),
    ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
    allowPrivateNetworks: options.allowPrivateNetworks ?? false,
    async health() {
      const [db, redis] = await Promise.all([
        within(database.pool.query('SELECT 1'), 2_000),
        within(commands.ping(), 2_000),
      ]);
      return { db, redis };
    },
  };
  const app = createApp(deps);

  const host = options.host ?? '0.0.0.0';
  const shutdownResources = async () => {
    await live.close();
    await jobs.close();
    await commands.quit().catch(() => {});
    await connection.quit().catch(() => {});
    await database.close();
  };
  let server: ReturnType<typeof serve>;
  let port: number;
  try {
    ({ server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
      (resolve, reject) => {
        const s = serve(
          { fetch: app.fetch, hostname: host, port: options.port ?? 3000 },
          (info: AddressInfo) => resolve({ server: s, port: info.port }),
        );
        s.once('error', reject);
      },
    ));
  } catch (error) {
    // Nothing may keep the process alive after a failed start (a port in use, say).
    await shutdownResources();
    throw error;
  }
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  log.info({ url, secureCookies: deps.secureCookies }, 'web console listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    deps,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        // The live inbox's streams never end by themselves: end them, then wait for the other requests.
        await live.close();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            // Requests still running after the grace period are cut.
            if ('closeAllConnections' in server) server.closeAllConnections();
            resolve();
          }, graceMs);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        });
        await shutdownResources();
        log.info('web console stopped');
      })();
      return closing;
    },
  };
}
