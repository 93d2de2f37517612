import type { Server } from 'node:http';
import { createDb, createRepositories, ensureDatabase, migrate } from '@kikimimi/db';
import {
  CONFIG_CHANNEL,
  createDesk,
  createJobQueues,
  createOutboxRelay,
  createSurgeDesk,
  type Desk,
  JOB_IDS,
  JOB_NAMES,
  type JobName,
  MATCHES_CHANNEL,
  matchesChangedMessage,
  parsePayload,
  SURGE_EDIT_MS,
  type SurgeDesk,
} from '@kikimimi/desk';
import { maskUrl, preflight } from '@kikimimi/runtime';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type BlueskyNetworkOptions, connectorFor, createConnectorCache } from './connectors.ts';
import { runDiscordGateway } from './discord/gateway.ts';
import { createDiscordNotifier } from './discord/notifier.ts';
import { createRestDiscordPort } from './discord/rest-port.ts';
import { createEngineProvider } from './engine-provider.ts';
import { runWithLease } from './lease.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { listenMetrics } from './metrics-server.ts';
import type { PipelineDeps } from './pipeline/deps.ts';
import { syncDigestScheduler } from './pipeline/digest.ts';
import { createReviewQueue } from './pipeline/review-queue.ts';
import { createSchedulerKeeper, retime, syncFollowSchedulers, syncSchedulers } from './pipeline/schedule.ts';
import { runStreams } from './pipeline/streams.ts';
import { rebuildSurgeRunner, type SurgeRunner } from './pipeline/surge.ts';
import type { Store } from './ports.ts';
import { PROCESSORS, type ProcessorContext } from './processors.ts';

/** How long a stopping worker waits for its running jobs, then for its connections, before it goes on. */
const CLOSE_GRACE_MS = 10_000;

export interface WorkerOptions {
  readonly databaseUrl: string;
  /** PostgreSQL schema (search_path); tests use their own. */
  readonly databaseSchema?: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly encryptionKey: string;
  readonly discord?:
    | {
        readonly token: string;
        readonly api?: string | undefined;
        /** Keep what reviewers write in case threads as notes (needs the Message Content intent). */
        readonly threadNotes?: boolean | undefined;
      }
    | undefined;
  /** null: no metrics endpoint; 0: an ephemeral port. */
  readonly metricsPort: number | null;
  /** The interface the metrics listen on (HOST; default 127.0.0.1). */
  readonly metricsHost?: string;
  /** When set, /metrics needs `Authorization: Bearer <token>` (METRICS_TOKEN). */
  readonly metricsToken?: string | undefined;
  readonly concurrency: number;
  readonly log: Logger;
  /** Apply migrations at start (default true). */
  readonly migrate?: boolean;
  /** How often the sweeper re-drives missing review messages and replies whose job was lost (default 30 s). */
  readonly sweepEveryMs?: number;
  /**
   * How often the job schedulers (polls, sweeper) are asserted again, in case Redis lost them (default
   * 60 s; also at once when Redis comes back after an outage).
   */
  readonly scheduleCheckMs?: number;
  /** How often the outbox is relayed to the queues when nothing nudges it (default 1 s). */
  readonly outboxRelayMs?: number;
  /**
   * Time-to-live of the leases on long-lived connections (Discord gateway, streams), default 6 s
   * (lease.ts): a crashed holder's connection is taken over by another worker about 1 s after it runs out.
   */
  readonly leaseTtlMs?: number;
  /** How often each account looks for customers' answers (default: the configuration's conversations.checkEveryMinutes). */
  readonly followEveryMs?: number;
  /** How often the digest scheduler looks for a period to post (default DIGEST_TICK_MS; tests). */
  readonly digestTickMs?: number;
  /** First wait after a failed poll, doubling per failure in a row up to 15 min (default 5 s). */
  readonly pollBackoffBaseMs?: number;
  /**
   * BullMQ lock duration (default 5 s; renewed every half of it whatever the job's length) with a
   * stalled check every half of it: a killed worker's jobs are taken over after at most 1.5× this.
   */
  readonly jobLockMs?: number;
  /**
   * A demo world to run (stand-in platforms fed by generated posts), injected by the caller: the CLI
   * builds it (apps/cli/src/demo/), so the worker itself never loads the stand-ins. Default: none.
   */
  readonly demo?: DemoWorld | undefined;
  /**
   * Bluesky identities (DID documents) from another PLC directory than https://plc.directory, and/or
   * fetched without the SSRF guard that refuses private addresses: only for a self-run or test network.
   */
  readonly bluesky?: BlueskyNetworkOptions | undefined;
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
  /** The review desk of this worker (the Discord buttons' decisions). */
  readonly desk: Desk;
  /** Decisions on whole surges. */
  readonly surgeDesk: SurgeDesk;
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
  const prefix = options.redisPrefix;
  const jobs = createJobQueues(connection, prefix, onRedisError);
  const metrics = createMetrics();
  const engines = createEngineProvider(store.config);
  const connectors = createConnectorCache(async (account) =>
    connectorFor(account, await store.accounts.credentials(account.id), options.bluesky),
  );
  const now = () => new Date();
  const discordPort = options.discord ? createRestDiscordPort(options.discord) : null;
  const notifier =
    discordPort === null
      ? null
      : createDiscordNotifier({ store, engines, discord: discordPort, metrics, now });
  // The live inbox of the consoles: new matches after ingest, changed ones after the jobs below.
  const announceMatches = (kind: 'new' | 'changed', ids: readonly string[]) => {
    connection
      .publish(`${prefix}:${MATCHES_CHANNEL}`, matchesChangedMessage(kind, ids))
      .catch((error: unknown) => log.debug({ error: String(error) }, 'matches-changed not published'));
  };
  const reviews = createReviewQueue(jobs);
  const deps: PipelineDeps = {
    announceMatches,
    store,
    engines,
    connectors,
    notifier,
    log,
    metrics,
    now,
    ...(options.pollBackoffBaseMs ? { pollBackoffBaseMs: options.pollBackoffBaseMs } : {}),
    afterOutbox: () => relay.nudge(),
    enqueue: {
      ...reviews,
      async surgeMessage(surgeId, options) {
        // A new surge's message at once: until it is out, there is no thread for the reviews of the
        // surge's kind, and they wait (discord/notifier.ts surgeLane). Window 0 is never a real one.
        if (options?.first) {
          await jobs.enqueue('surgeMessage', { surgeId }, { jobId: JOB_IDS.surgeMessage(surgeId, 0) });
          return;
        }
        // One job per surge and window, run when the window ends: it reads the surge then, so every
        // member that joined during the window is shown (a job run at the window's start would leave
        // the last members of a burst unshown until another joined).
        const at = Date.now();
        const window = Math.floor(at / SURGE_EDIT_MS);
        await jobs.enqueue(
          'surgeMessage',
          { surgeId },
          { jobId: JOB_IDS.surgeMessage(surgeId, window), delay: (window + 1) * SURGE_EDIT_MS - at },
        );
      },
      async review(matchIds) {
        if (matchIds.length === 0) return;
        const { config } = await engines.current();
        if (!config.surges.enabled) return deps.enqueue.notifyMany(matchIds);
        // Marked first: the sweeper leaves them to the detector (and re-drives them if the job is lost).
        await store.surges.markPending(matchIds);
        for (let i = 0; i < matchIds.length; i += 1_000) {
          const chunk = matchIds.slice(i, i + 1_000);
          await jobs.enqueue('surge', { matchIds: chunk }, { jobId: JOB_IDS.surge(chunk[0] as string) });
        }
      },
    },
  };
  const relay = createOutboxRelay({ outbox: store.outbox, jobs, log });
  const desk = createDesk({ repos: store, now, afterCommit: () => relay.nudge() });
  const surgeDesk = createSurgeDesk({ repos: store, now, afterCommit: () => relay.nudge() });
  let surgeRunner: SurgeRunner | null = null;

  const intervals = new Map<string, number>();
  const sweepEveryMs = options.sweepEveryMs ?? 30_000;
  const context: ProcessorContext = {
    deps,
    jobs,
    sweepEveryMs,
    retime: (job, everyMs) => retime(jobs.queues.poll, intervals, job, everyMs),
    surge: () => surgeRunner,
  };
  const lockMs = options.jobLockMs ?? 5_000;
  const settings = {
    connection,
    prefix,
    concurrency: options.concurrency,
    settings: { backoffStrategy: backoffMs },
    lockDuration: lockMs,
    stalledInterval: Math.ceil(lockMs / 2),
    // Jobs of a killed worker are taken over, not failed, however often that happens.
    maxStalledCount: 100,
  };
  const onFailed = (queue: string) => (job: Job | undefined, error: Error) => {
    metrics.failures.inc({ queue });
    log.warn({ queue, job: job?.id, attempts: job?.attemptsMade, error: error.message }, 'job failed');
  };
  // The table of processors: one BullMQ worker per job of the catalogue.
  const run = <N extends JobName>(name: N) => {
    const processor = PROCESSORS[name] as (
      payload: unknown,
      job: Job,
      context: ProcessorContext,
    ) => Promise<unknown>;
    return async (job: Job) => {
      let payload: unknown;
      try {
        payload = parsePayload(name, job.data);
      } catch (error) {
        throw new UnrecoverableError(String(error instanceof Error ? error.message : error));
      }
      return processor(payload, job, context);
    };
  };
  // The surge queue is processed only by the holder of the surge lease (below).
  const workers = JOB_NAMES.filter((name) => name !== 'surge').map(
    (name) => new Worker(name, run(name), name === 'sweep' ? { ...settings, concurrency: 1 } : settings),
  );
  // Jobs whose completion means a match changed: a decision shown, a reply's outcome, a case event.
  const CHANGES: ReadonlySet<string> = new Set(['refresh', 'reply', 'caseUpdate', 'escalate']);
  for (const worker of workers) {
    if (CHANGES.has(worker.name)) {
      worker.on('completed', (job: Job) => {
        const matchId = (job.data as { matchId?: unknown }).matchId;
        if (typeof matchId === 'string') announceMatches('changed', [matchId]);
      });
    }
    worker.on('failed', onFailed(worker.name));
    worker.on('error', onRedisError);
  }

  // Job schedulers live only in Redis: asserted at start, on every configuration change, when Redis
  // comes back after an outage and every scheduleCheckMs — one sync at a time, the latest wins.
  const schedules = createSchedulerKeeper(async () => {
    await jobs.queues.sweep.upsertJobScheduler(
      'sweep',
      { every: sweepEveryMs },
      { name: 'sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    const synced = await syncSchedulers(jobs.queues.poll, deps, intervals);
    const followed = await syncFollowSchedulers(jobs.queues.follow, deps, options.followEveryMs);
    const digest = await syncDigestScheduler(jobs.queues.digest, deps, options.digestTickMs);
    log.debug(
      { ...synced, followed, digest },
      'poll, follow and digest schedulers in step with the configuration',
    );
  });
  const assertSchedules = (why: string) =>
    schedules
      .request()
      .catch((error: unknown) => log.warn({ error: String(error), why }, 'scheduler sync failed'));
  connection.on('ready', () => {
    if (redisDown) {
      log.info('redis available again');
      void assertSchedules('redis back');
      relay.nudge();
    }
    redisDown = false;
  });
  await schedules.request();
  const scheduleTimer = setInterval(
    () => void assertSchedules('periodic'),
    options.scheduleCheckMs ?? 60_000,
  );
  scheduleTimer.unref();

  const stop = new AbortController();
  let streamsStop = new AbortController();
  const background: Promise<void>[] = [];
  const startStreams = () => {
    streamsStop = new AbortController();
    const signal = AbortSignal.any([stop.signal, streamsStop.signal]);
    background.push(
      runStreams(connection, jobs.enqueue, prefix, deps, signal, options.leaseTtlMs).catch((error: unknown) =>
        log.error({ error: String(error) }, 'streams stopped'),
      ),
    );
  };

  const refresh = async () => {
    engines.invalidate();
    await schedules.request();
    log.info('configuration reloaded');
    streamsStop.abort();
    startStreams();
  };
  startStreams();
  background.push(relay.run(stop.signal, options.outboxRelayMs ?? 1_000));

  await subscriber.subscribe(`${prefix}:${CONFIG_CHANNEL}`);
  subscriber.on('message', () => {
    refresh().catch((error: unknown) => log.error({ error: String(error) }, 'configuration reload failed'));
  });

  // One surge detector for the deployment: the lease holder rebuilds it from the stored matches and
  // processes the surge queue one job at a time, in order (docs/adr/010-surges.md).
  background.push(
    runWithLease(
      connection,
      `${prefix}:lease:surge`,
      async (signal) => {
        const runner = await rebuildSurgeRunner(deps, jobs);
        surgeRunner = runner;
        const worker = new Worker('surge', run('surge'), { ...settings, concurrency: 1 });
        worker.on('failed', onFailed('surge'));
        worker.on('error', onRedisError);
        const quiet = setInterval(() => {
          runner
            .closeQuiet(now().getTime())
            .catch((error: unknown) => log.warn({ error: String(error) }, 'closing quiet surges failed'));
        }, 30_000);
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        clearInterval(quiet);
        await worker.close();
        if (surgeRunner === runner) surgeRunner = null;
      },
      {
        signal: stop.signal,
        name: 'surge detector',
        log,
        ...(options.leaseTtlMs
          ? { ttlMs: options.leaseTtlMs, retryMs: Math.max(200, options.leaseTtlMs / 3) }
          : {}),
      },
    ),
  );

  if (options.demo) {
    const demo = options.demo;
    background.push(
      runWithLease(
        connection,
        `${prefix}:lease:demo`,
        (signal) => demo({ store, log, signal, onReady: refresh }),
        {
          signal: stop.signal,
          name: 'demo world',
          log,
          ...(options.leaseTtlMs ? { ttlMs: options.leaseTtlMs } : {}),
        },
      ).catch((error: unknown) => log.error({ error: String(error) }, 'demo world stopped')),
    );
  }

  if (options.discord) {
    const discord = options.discord;
    background.push(
      runWithLease(
        connection,
        `${prefix}:lease:discord-gateway`,
        (signal) =>
          runDiscordGateway(
            { ...discord, signal },
            // biome-ignore lint/style/noNonNullAssertion: with a Discord token the notifier exists (above).
            { desk, surgeDesk, store, engines, notifier: notifier! },
            log,
          ),
        {
          signal: stop.signal,
          name: 'discord gateway',
          log,
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
    const listening = await listenMetrics({
      registry: metrics.registry,
      host: options.metricsHost ?? '127.0.0.1',
      port: options.metricsPort,
      token: options.metricsToken,
    });
    metricsServer = listening.server;
    metricsUrl = listening.url;
  }
  log.info({ queues: JOB_NAMES, discord: options.discord !== undefined, metricsUrl }, 'worker started');

  let closing: Promise<void> | null = null;
  /** Whether `work` settles within `ms` (it goes on either way). */
  const within = (ms: number, work: Promise<unknown>) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      work.then(
        () => {
          clearTimeout(timer);
          resolve(true);
        },
        () => {
          clearTimeout(timer);
          resolve(true);
        },
      );
    });
  return {
    metrics,
    metricsUrl,
    store,
    desk,
    surgeDesk,
    refresh,
    close() {
      closing ??= (async () => {
        stop.abort();
        clearInterval(scheduleTimer);
        // Running jobs get a while to finish; one that hangs (a platform that never answers) must not
        // hold the shutdown: it is left behind, stalls, and another worker takes it over.
        const graceful = await within(CLOSE_GRACE_MS, Promise.all(workers.map((w) => w.close())));
        if (!graceful) {
          log.warn({ graceMs: CLOSE_GRACE_MS }, 'jobs still running at shutdown: left for another worker');
          await Promise.allSettled(workers.map((w) => w.close(true)));
        }
        if (!(await within(CLOSE_GRACE_MS, Promise.allSettled(background)))) {
          log.warn(
            { graceMs: CLOSE_GRACE_MS },
            'a connection did not stop in time at shutdown: closing anyway',
          );
        }
        await jobs.close();
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
