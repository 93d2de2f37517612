import { resolveEncryptionKey } from '@kikimimi/db';
import { createLogger, loadWorkerEnv, startWorker } from '@kikimimi/worker';
import { loadDemoWorld } from './demo/load.ts';
import { type Command, printedHelp } from './io.ts';

const USAGE = `Usage: kikimimi worker

Runs the BullMQ workers (poll, stream, ingest, notify, reply) and, when DISCORD_TOKEN is set, the
Discord review client. With no platform account connected it runs the demo world (KIKIMIMI_DEMO=auto).
Configuration comes from the environment (see .env.example): DATABASE_URL, REDIS_URL,
KIKIMIMI_ENCRYPTION_KEY, KIKIMIMI_DATA_DIR, KIKIMIMI_REDIS_PREFIX, KIKIMIMI_DEMO, KIKIMIMI_DEMO_RATE,
DISCORD_TOKEN, DISCORD_API_URL, METRICS_PORT (Prometheus metrics at /metrics; 0 disables),
LOG_LEVEL, WORKER_CONCURRENCY. Applies pending database migrations at start. Stops gracefully on
SIGTERM or SIGINT.`;

/** Waits for SIGTERM or SIGINT. */
export function untilSignal(onSignal: (signal: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      onSignal(signal);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run the workers (poll, stream, ingest, notify, reply) and the Discord review client',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    const env = loadWorkerEnv(process.env);
    if (!env.ok) {
      io.stderr.write(`kikimimi worker: the environment has ${env.problems.length} problem(s):\n`);
      for (const problem of env.problems) io.stderr.write(`  ${problem}\n`);
      return 2;
    }
    const log = createLogger({ level: env.env.LOG_LEVEL });
    let worker: Awaited<ReturnType<typeof startWorker>>;
    try {
      const encryptionKey = await resolveEncryptionKey({
        fromEnv: env.env.KIKIMIMI_ENCRYPTION_KEY,
        dataDir: env.env.KIKIMIMI_DATA_DIR,
        onGenerated: (path) =>
          log.warn({ path }, 'no KIKIMIMI_ENCRYPTION_KEY: generated one (back it up, or set the variable)'),
      });
      worker = await startWorker({
        databaseUrl: env.env.DATABASE_URL,
        redisUrl: env.env.REDIS_URL,
        redisPrefix: env.env.KIKIMIMI_REDIS_PREFIX,
        encryptionKey,
        discord: env.env.DISCORD_TOKEN
          ? { token: env.env.DISCORD_TOKEN, api: env.env.DISCORD_API_URL }
          : undefined,
        metricsPort: env.env.METRICS_PORT === 0 ? null : env.env.METRICS_PORT,
        metricsHost: env.env.HOST,
        metricsToken: env.env.METRICS_TOKEN,
        concurrency: env.env.WORKER_CONCURRENCY,
        demo: await loadDemoWorld({ mode: env.env.KIKIMIMI_DEMO, perMinute: env.env.KIKIMIMI_DEMO_RATE }),
        log,
      });
    } catch (error) {
      io.stderr.write(
        `kikimimi worker: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 1;
    }
    await untilSignal((signal) => log.info({ signal }, 'stopping'));
    await worker.close();
    return 0;
  },
};
