import { resolveEncryptionKey } from '@kikimimi/db';
import type { RunningWeb } from '@kikimimi/web';
import { createLogger, loadWorkerEnv, type RunningWorker, startWorker } from '@kikimimi/worker';
import { loadDemoWorld } from './demo/load.ts';
import { type Command, printedHelp } from './io.ts';
import { untilSignal } from './worker.ts';

const USAGE = `Usage: kikimimi start

Runs the web console and the worker in one process: the whole of kikimimi for a small installation
(and what \`npm start\` runs). With no platform account connected it starts the demo world: stand-in X
and Mastodon fed with generated posts, and an example configuration, so the inbox fills within a
minute. Takes the environment of both \`kikimimi web\` and \`kikimimi worker\` (see .env.example).
Applies pending database migrations at start. Stops gracefully on SIGTERM or SIGINT.`;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the web console and the worker in one process (demo world when nothing is connected)',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    const { loadWebEnv, securityOptionsOf, startWeb } = await import('@kikimimi/web');
    const workerEnv = loadWorkerEnv(process.env);
    const webEnv = loadWebEnv(process.env);
    const problems = [
      ...new Set([...(workerEnv.ok ? [] : workerEnv.problems), ...(webEnv.ok ? [] : webEnv.problems)]),
    ];
    if (!workerEnv.ok || !webEnv.ok) {
      io.stderr.write(`kikimimi start: the environment has ${problems.length} problem(s):\n`);
      for (const problem of problems) io.stderr.write(`  ${problem}\n`);
      return 2;
    }
    const env = { ...workerEnv.env, ...webEnv.env };
    const log = createLogger({ level: env.LOG_LEVEL });
    let worker: RunningWorker | undefined;
    let web: RunningWeb | undefined;
    try {
      const encryptionKey = await resolveEncryptionKey({
        fromEnv: env.KIKIMIMI_ENCRYPTION_KEY,
        dataDir: env.KIKIMIMI_DATA_DIR,
        onGenerated: (path) =>
          log.warn({ path }, 'no KIKIMIMI_ENCRYPTION_KEY: generated one (back it up, or set the variable)'),
      });
      worker = await startWorker({
        databaseUrl: env.DATABASE_URL,
        redisUrl: env.REDIS_URL,
        redisPrefix: env.KIKIMIMI_REDIS_PREFIX,
        encryptionKey,
        discord: env.DISCORD_TOKEN ? { token: env.DISCORD_TOKEN, api: env.DISCORD_API_URL } : undefined,
        metricsPort: env.METRICS_PORT === 0 ? null : env.METRICS_PORT,
        metricsHost: env.HOST,
        metricsToken: env.METRICS_TOKEN,
        concurrency: env.WORKER_CONCURRENCY,
        demo: await loadDemoWorld({ mode: env.KIKIMIMI_DEMO, perMinute: env.KIKIMIMI_DEMO_RATE }),
        log,
      });
      web = await startWeb({
        databaseUrl: env.DATABASE_URL,
        redisUrl: env.REDIS_URL,
        redisPrefix: env.KIKIMIMI_REDIS_PREFIX,
        encryptionKey,
        host: env.HOST,
        port: env.PORT,
        secureCookies: env.COOKIE_SECURE,
        dashboardCacheSeconds: env.DASHBOARD_CACHE_SECONDS,
        ...securityOptionsOf(webEnv.env),
        migrate: false,
        log,
      });
      io.stdout.write(`kikimimi is running: open ${web.url} in a browser\n`);
    } catch (error) {
      io.stderr.write(
        `kikimimi start: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      await worker?.close().catch(() => {});
      return 1;
    }
    await untilSignal((signal) => log.info({ signal }, 'stopping'));
    await web.close();
    await worker.close();
    return 0;
  },
};
