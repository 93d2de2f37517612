import { resolveEncryptionKey } from '@kikimimi/db';
import type { RunningWeb } from '@kikimimi/web';
import { type Command, printedHelp } from './io.ts';
import { untilSignal } from './worker.ts';

const USAGE = `Usage: kikimimi web

Serves the web console (setup, sign-in, inbox, configuration, users, queues) and its JSON API under
/api. Open it in a browser: the first visit creates the first admin. Configuration comes from the
environment (see .env.example): DATABASE_URL, REDIS_URL, KIKIMIMI_ENCRYPTION_KEY (the worker's),
KIKIMIMI_DATA_DIR, KIKIMIMI_REDIS_PREFIX (the worker's), HOST (default 0.0.0.0), PORT (default 3000),
COOKIE_SECURE (true behind HTTPS), DASHBOARD_CACHE_SECONDS (default 60), LOG_LEVEL. Health at /healthz, Prometheus metrics at /metrics.
Applies pending database migrations at start. Stops gracefully on SIGTERM or SIGINT.`;

export const webCommand: Command = {
  name: 'web',
  summary: 'serve the web console and its JSON API',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    // Loaded on use: the console (Hono, bull-board) costs the other commands nothing.
    const { createLogger, loadWebEnv, securityOptionsOf, startWeb } = await import('@kikimimi/web');
    const env = loadWebEnv(process.env);
    if (!env.ok) {
      io.stderr.write(`kikimimi web: the environment has ${env.problems.length} problem(s):\n`);
      for (const problem of env.problems) io.stderr.write(`  ${problem}\n`);
      return 2;
    }
    const log = createLogger({ level: env.env.LOG_LEVEL });
    let web: RunningWeb;
    try {
      const encryptionKey = await resolveEncryptionKey({
        fromEnv: env.env.KIKIMIMI_ENCRYPTION_KEY,
        dataDir: env.env.KIKIMIMI_DATA_DIR,
        onGenerated: (path) =>
          log.warn({ path }, 'no KIKIMIMI_ENCRYPTION_KEY: generated one (back it up, or set the variable)'),
      });
      web = await startWeb({
        databaseUrl: env.env.DATABASE_URL,
        redisUrl: env.env.REDIS_URL,
        redisPrefix: env.env.KIKIMIMI_REDIS_PREFIX,
        encryptionKey,
        host: env.env.HOST,
        port: env.env.PORT,
        secureCookies: env.env.COOKIE_SECURE,
        dashboardCacheSeconds: env.env.DASHBOARD_CACHE_SECONDS,
        ...securityOptionsOf(env.env),
        log,
      });
    } catch (error) {
      io.stderr.write(
        `kikimimi web: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 1;
    }
    await untilSignal((signal) => log.info({ signal }, 'stopping'));
    await web.close();
    return 0;
  },
};
