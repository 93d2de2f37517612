import { runService } from '@kikimimi/runtime';
import { loadWorkerEnv, startWorker, type WorkerEnv } from '@kikimimi/worker';
import { loadDemoWorld } from './demo/load.ts';
import { type Command, printedHelp } from './io.ts';

const USAGE = `Usage: kikimimi worker

Runs the BullMQ workers (poll, stream, ingest, notify, reply) and, when DISCORD_TOKEN is set, the
Discord review client. With no platform account connected it runs the demo world (KIKIMIMI_DEMO=auto).
Configuration comes from the environment (see .env.example; an empty variable is unset): DATABASE_URL,
REDIS_URL, KIKIMIMI_ENCRYPTION_KEY, KIKIMIMI_DATA_DIR, KIKIMIMI_REDIS_PREFIX, KIKIMIMI_DEMO,
KIKIMIMI_DEMO_RATE, DISCORD_TOKEN, DISCORD_API_URL, DISCORD_THREAD_NOTES, METRICS_PORT (Prometheus metrics at /metrics; 0
disables), HOST (the interface the metrics listen on), METRICS_TOKEN, LOG_LEVEL, WORKER_CONCURRENCY. Applies pending database migrations at start. Stops
gracefully on SIGTERM or SIGINT.`;

/** What `kikimimi worker` and `kikimimi start` pass to the worker from its environment. */
export async function workerOptionsFrom(env: WorkerEnv) {
  return {
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.KIKIMIMI_REDIS_PREFIX,
    discord: env.DISCORD_TOKEN
      ? { token: env.DISCORD_TOKEN, api: env.DISCORD_API_URL, threadNotes: env.DISCORD_THREAD_NOTES === 'on' }
      : undefined,
    metricsPort: env.METRICS_PORT === 0 ? null : env.METRICS_PORT,
    metricsHost: env.HOST,
    metricsToken: env.METRICS_TOKEN,
    concurrency: env.WORKER_CONCURRENCY,
    demo: await loadDemoWorld({ mode: env.KIKIMIMI_DEMO, perMinute: env.KIKIMIMI_DEMO_RATE }),
  };
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run the workers (poll, stream, ingest, notify, reply) and the Discord review client',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    return runService({
      command: 'worker',
      envs: [loadWorkerEnv(process.env)],
      loggerName: 'kikimimi-worker',
      stderr: io.stderr,
      start: async ([env], context) => startWorker({ ...(await workerOptionsFrom(env)), ...context }),
    });
  },
};
