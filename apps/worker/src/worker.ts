import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDb, createRepositories, ensureDatabase, migrate } from '@kikimimi/db';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectorFor, createConnectorCache } from './connectors.ts';
import { runDiscordGateway } from './discord/gateway.ts';
import { createRestDiscordPort } from './discord/rest-port.ts';
import { createEngineProvider } from './engine-provider.ts';
import {
  CONFIG_CHANNEL,
  escalateJobSchema,
  ingestJobSchema,
  jobId,
  notifyJobSchema,
  pollJobSchema,
  QUEUES,
  refreshJobSchema,
  replyJobSchema,
} from './jobs.ts';
import { runWithLease } from './lease.ts';
import { maskUrl } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { PipelineDeps } from './pipeline/deps.ts';
import { postEscalation } from './pipeline/escalate.ts';
import { ingestPosts, parsePosts } from './pipeline/ingest.ts';
import { handlePoll } from './pipeline/poll.ts';
import { handleReply } from './pipeline/reply.ts';
import { handleNotify, refreshReviewMessage } from './pipeline/review.ts';
import { retime, syncSchedulers } from './pipeline/schedule.ts';
import { runStreams } from './pipeline/streams.ts';
import type { Store } from './ports.ts';
import { preflight } from './preflight.ts';

export interface WorkerOptions {
  readonly databaseUrl: string;
  /** PostgreSQL schema (search_path); tests use their own. */
  readonly databaseSchema?: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly encryptionKey: string;
  readonly discord?: { readonly token: string; readonly api?: string | undefined } | undefined;
  /** null: no metrics endpoint; 0: an ephemeral port. */
  readonly metricsPort: number | null;
  readonly concurrency: number;
  readonly log: Logger;
  /** Apply migrations at start (default true). */
  readonly migrate?: boolean;
  /** How often the sweeper re-queues matches whose review message is missing (default 30 s). */
  readonly sweepEveryMs?: number;
  /**
   * Time-to-live of the leases on long-lived connections (Discord gateway, streams), default 15 s: a
   * crashed holder's connection is taken over by another worker after at most this long.
   */
  readonly leaseTtlMs?: number;
  /** First wait after a failed poll, doubling per failure in a row up to 15 min (default 5 s). */
  readonly pollBackoffBaseMs?: number;
  /**
   * How long a job stays with a worker that stopped answering (killed, frozen) before another takes it
   * over (BullMQ lock duration and stalled check; default 30 s).
   */
  readonly jobLockMs?: number;
  /**
   * A demo world to run (stand-in platforms fed by generated posts), injected by the caller: the CLI
   * builds it (apps/cli/src/demo/), so the worker itself never loads the stand-ins. Default: none.
   */
  readonly demo?: DemoWorld | undefined;
}

/** What an injected demo world gets from the worker. */
export interface DemoContext {
  readonly store: Store;
  readonly log: Logger;
  /** Aborts when the worker stops or loses the demo lease. */
  readonly signal: AbortSignal;
  /** To call once its accounts are stored: the worker then re-reads configuration and accounts. */
  onReady(): Promise<void>;
}

/** A demo world: runs until its signal aborts; one worker at a time runs it (under a Redis lease). */
export type DemoWorld = (context: DemoContext) => Promise<void>;

export interface RunningWorker {
  readonly metrics: Metrics;
  readonly metricsUrl: string | null;
  readonly store: Store;
  /** Re-reads configuration and accounts (what a config-changed message does). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Discord may be down for a while: keep trying, 1 s doubling to at most 60 s, with jitter. */
export function backoffMs(attemptsMade: number): number {
  const base = Math.min(60_000, 1_000 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** The composition root: wires the database, Redis, queues, handlers, Discord and metrics. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { log } = options;
  // A first run on a fresh PostgreSQL: create the database (preflight reports anything else).
  if ((await ensureDatabase(options.databaseUrl).catch(() => 'unknown')) === 'created') {
    log.info({ database: maskUrl(options.databaseUrl) }, 'created the database');
  }
  const database = createDb({
    connectionString: options.databaseUrl,
    ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
  });
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  let lastRedisError: Error | undefined;
  connection.on('error', (error: Error) => {
    lastRedisError = error;
  });
  try {
    await preflight({
      pool: database.pool,
      databaseUrl: options.databaseUrl,
      redis: connection,
      redisUrl: options.redisUrl,
      lastRedisError: () => lastRedisError,
    });
  } catch (error) {
    connection.disconnect();
    await database.close().catch(() => {});
    throw error;
  }
  if (options.migrate !== false) await migrate(database.pool);
  const store: Store = createRepositories(database.db, { encryptionKey: options.encryptionKey });

  const subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  // Redis going away is expected now and then (restarts, failovers): ioredis reconnects by itself;
  // say so once per outage instead of an unhandled error per command.
  let redisDown = false;
  const onRedisError = (error: Error) => {
    if (!redisDown) log.warn({ error: error.message }, 'redis unavailable; reconnecting');
    redisDown = true;
  };
  connection.on('error', onRedisError);
  subscriber.on('error', onRedisError);
  connection.on('ready', () => {
    if (redisDown) log.info('redis available again');
    redisDown = false;
  });
  const prefix = options.redisPrefix;
  const queueOptions = { connection, prefix };
  const queues = {
    poll: new Queue(QUEUES.poll, queueOptions),
    ingest: new Queue(QUEUES.ingest, queueOptions),
    notify: new Queue(QUEUES.notify, queueOptions),
    reply: new Queue(QUEUES.reply, queueOptions),
    refresh: new Queue(QUEUES.refresh, queueOptions),
    escalate: new Queue(QUEUES.escalate, queueOptions),
    sweep: new Queue(QUEUES.sweep, queueOptions),
  };
  for (const queue of Object.values(queues)) queue.on('error', onRedisError);
  const metrics = createMetrics();
  const engines = createEngineProvider(store.config);
  const connectors = createConnectorCache(async (account) =>
    connectorFor(account, await store.accounts.credentials(account.id)),
  );
  const notifyOptions = (matchId: string) => ({
    jobId: jobId('notify', matchId),
    attempts: 1_000,
    backoff: { type: 'custom' },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  });
  const deps: PipelineDeps = {
    store,
    engines,
    connectors,
    discord: options.discord ? createRestDiscordPort(options.discord) : null,
    log,
    metrics,
    now: () => new Date(),
    ...(options.pollBackoffBaseMs ? { pollBackoffBaseMs: options.pollBackoffBaseMs } : {}),
    enqueue: {
      async notify(matchId) {
        await queues.notify.add(QUEUES.notify, { matchId }, notifyOptions(matchId));
      },
      async notifyMany(matchIds) {
        if (matchIds.length === 0) return;
        await queues.notify.addBulk(
          matchIds.map((matchId) => ({
            name: QUEUES.notify,
            data: { matchId },
            opts: notifyOptions(matchId),
          })),
        );
      },
      async reply(matchId) {
        await queues.reply.add(
          QUEUES.reply,
          { matchId },
          {
            jobId: jobId('reply', matchId),
            attempts: 20,
            backoff: { type: 'custom' },
            removeOnComplete: 1000,
            removeOnFail: 5000,
          },
        );
      },
    },
  };

  const intervals = new Map<string, number>();
  const lockMs = options.jobLockMs ?? 30_000;
  const settings = {
    connection,
    prefix,
    concurrency: options.concurrency,
    settings: { backoffStrategy: backoffMs },
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // Jobs of a killed worker are taken over, not failed, however often that happens.
    maxStalledCount: 100,
  };
  const onFailed = (queue: string) => (job: Job | undefined, error: Error) => {
    metrics.failures.inc({ queue });
    log.warn({ queue, job: job?.id, attempts: job?.attemptsMade, error: error.message }, 'job failed');
  };
  const workers = [
    new Worker(
      QUEUES.poll,
      async (job) => {
        const data = pollJobSchema.parse(job.data);
        const result = await handlePoll(data, deps);
        if (result.nextIntervalMs !== undefined)
          await retime(queues.poll, intervals, data, result.nextIntervalMs);
        return result;
      },
      settings,
    ),
    new Worker(
      QUEUES.ingest,
      async (job) => {
        const data = ingestJobSchema.parse(job.data);
        return ingestPosts({ accountId: data.accountId, posts: parsePosts(data.posts, deps) }, deps);
      },
      settings,
    ),
    new Worker(
      QUEUES.notify,
      async (job) => handleNotify(notifyJobSchema.parse(job.data).matchId, deps),
      settings,
    ),
    new Worker(
      QUEUES.reply,
      async (job) => handleReply(replyJobSchema.parse(job.data).matchId, deps),
      settings,
    ),
    // Decisions made in the web console: shown on the Discord message; escalations posted.
    new Worker(
      QUEUES.refresh,
      async (job) => refreshReviewMessage(refreshJobSchema.parse(job.data).matchId, deps),
      settings,
    ),
    new Worker(
      QUEUES.escalate,
      async (job) => {
        const data = escalateJobSchema.parse(job.data);
        const match = await store.matches.get(data.matchId);
        if (match === null) return false;
        const posted = await postEscalation(match, data.target, data.actorName, deps);
        await refreshReviewMessage(match.id, deps);
        return posted;
      },
      settings,
    ),
    new Worker(
      QUEUES.sweep,
      async () => {
        // A crash between storing a match and queueing its notification, or a notification that gave
        // up, must not lose a review message: re-queue (or retry) those still missing one.
        if (deps.discord === null) return { requeued: 0 };
        const sweepEveryMs = options.sweepEveryMs ?? 30_000;
        const ids = await store.matches.withoutReviewMessage(new Date(Date.now() - 2 * sweepEveryMs), 500);
        let requeued = 0;
        for (const id of ids) {
          const job = await queues.notify.getJob(jobId('notify', id));
          if (job === undefined) {
            await deps.enqueue.notify(id);
            requeued++;
          } else if (await job.isFailed()) {
            await job.retry();
            requeued++;
          }
        }
        return { requeued };
      },
      { ...settings, concurrency: 1 },
    ),
  ];
  for (const worker of workers) {
    worker.on('failed', onFailed(worker.name));
    worker.on('error', onRedisError);
  }
  await queues.sweep.upsertJobScheduler(
    'sweep',
    { every: options.sweepEveryMs ?? 30_000 },
    { name: QUEUES.sweep, data: {} },
  );

  const stop = new AbortController();
  let streamsStop = new AbortController();
  const background: Promise<void>[] = [];
  const startStreams = () => {
    streamsStop = new AbortController();
    const signal = AbortSignal.any([stop.signal, streamsStop.signal]);
    background.push(
      runStreams(connection, queues.ingest, prefix, deps, signal, options.leaseTtlMs).catch(
        (error: unknown) => log.error({ error: String(error) }, 'streams stopped'),
      ),
    );
  };

  const refresh = async () => {
    engines.invalidate();
    const synced = await syncSchedulers(queues.poll, deps, intervals);
    log.info(synced, 'poll schedulers in step with the configuration');
    streamsStop.abort();
    startStreams();
  };
  await syncSchedulers(queues.poll, deps, intervals);
  startStreams();

  await subscriber.subscribe(`${prefix}:${CONFIG_CHANNEL}`);
  subscriber.on('message', () => {
    refresh().catch((error: unknown) => log.error({ error: String(error) }, 'configuration reload failed'));
  });

  if (options.demo) {
    const demo = options.demo;
    background.push(
      runWithLease(
        connection,
        `${prefix}:lease:demo`,
        (signal) => demo({ store, log, signal, onReady: refresh }),
        { signal: stop.signal, ...(options.leaseTtlMs ? { ttlMs: options.leaseTtlMs } : {}) },
      ).catch((error: unknown) => log.error({ error: String(error) }, 'demo world stopped')),
    );
  }

  if (options.discord) {
    const discord = options.discord;
    background.push(
      runWithLease(
        connection,
        `${prefix}:lease:discord-gateway`,
        (signal) => runDiscordGateway({ ...discord, signal }, deps, log),
        {
          signal: stop.signal,
          ...(options.leaseTtlMs
            ? { ttlMs: options.leaseTtlMs, retryMs: Math.max(200, options.leaseTtlMs / 3) }
            : {}),
          onChange: (held) => log.info({ held }, 'discord gateway lease'),
        },
      ),
    );
  }

  let metricsServer: Server | null = null;
  let metricsUrl: string | null = null;
  if (options.metricsPort !== null) {
    metricsServer = createServer(async (request, response) => {
      if (request.url === '/metrics') {
        response.writeHead(200, { 'content-type': metrics.registry.contentType });
        response.end(await metrics.registry.metrics());
      } else {
        response.writeHead(request.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
        response.end(request.url === '/healthz' ? 'ok' : 'not found');
      }
    });
    await new Promise<void>((resolve) => metricsServer?.listen(options.metricsPort ?? 0, resolve));
    metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
  }
  log.info(
    { queues: Object.keys(QUEUES), discord: options.discord !== undefined, metricsUrl },
    'worker started',
  );

  let closing: Promise<void> | null = null;
  return {
    metrics,
    metricsUrl,
    store,
    refresh,
    close() {
      closing ??= (async () => {
        stop.abort();
        await Promise.all(workers.map((w) => w.close()));
        await Promise.allSettled(background);
        await Promise.all(Object.values(queues).map((q) => q.close()));
        await subscriber.quit().catch(() => {});
        await connection.quit().catch(() => {});
        await new Promise<void>((resolve) =>
          metricsServer ? metricsServer.close(() => resolve()) : resolve(),
        );
        await database.close();
        log.info('worker stopped');
      })();
      return closing;
    },
  };
}

export { UnrecoverableError };
