import { runService } from '@kikimimi/runtime';
import type { WebEnv } from '@kikimimi/web';
import { type Command, printedHelp } from './io.ts';

const USAGE = `Usage: kikimimi web

Serves the web console (setup, sign-in, inbox, configuration, users, queues) and its JSON API under
/api. Open it in a browser: the first visit creates the first admin. Configuration comes from the
environment (see .env.example; an empty variable is unset): DATABASE_URL, REDIS_URL,
KIKIMIMI_ENCRYPTION_KEY (the worker's), KIKIMIMI_DATA_DIR, KIKIMIMI_REDIS_PREFIX (the worker's), HOST
(default 0.0.0.0), PORT (default 3000), COOKIE_SECURE (true behind HTTPS), DASHBOARD_CACHE_SECONDS
(default 60), TRUSTED_PROXIES, SESSION_MAX_AGE_HOURS (default 24), METRICS_TOKEN,
ALLOW_PRIVATE_NETWORKS, LOG_LEVEL. Health at /healthz, Prometheus metrics at /metrics (admins, or the
METRICS_TOKEN bearer).
Applies pending database migrations at start. Stops gracefully on SIGTERM or SIGINT.`;

/** What `kikimimi web` and `kikimimi start` pass to the console from its environment. */
export function webOptionsFrom(env: WebEnv) {
  return {
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.KIKIMIMI_REDIS_PREFIX,
    host: env.HOST,
    port: env.PORT,
    secureCookies: env.COOKIE_SECURE,
    dashboardCacheSeconds: env.DASHBOARD_CACHE_SECONDS,
    trustedProxies: env.TRUSTED_PROXIES,
    sessionMaxAgeSeconds: env.SESSION_MAX_AGE_HOURS * 3600,
    ...(env.METRICS_TOKEN === undefined ? {} : { metricsToken: env.METRICS_TOKEN }),
    allowPrivateNetworks: env.ALLOW_PRIVATE_NETWORKS,
  };
}

export const webCommand: Command = {
  name: 'web',
  summary: 'serve the web console and its JSON API',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    // Loaded on use: the console (Hono, bull-board) costs the other commands nothing.
    const { loadWebEnv, startWeb } = await import('@kikimimi/web');
    return runService({
      command: 'web',
      envs: [loadWebEnv(process.env)],
      loggerName: 'kikimimi-web',
      stderr: io.stderr,
      start: ([env], context) => startWeb({ ...webOptionsFrom(env), ...context }),
    });
  },
};
