import {
  commonEnv,
  type EnvResult,
  flagVar,
  intVar,
  logLevelVar,
  parseEnv,
  portVar,
} from '@kikimimi/runtime';
import { z } from 'zod';
import { trustedProxyList } from './auth/client-address.ts';

/** The web console's environment, validated once at start (an empty variable is unset). */
export const webEnvSchema = z.object({
  ...commonEnv,
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  PORT: portVar().default(3000),
  /** Set the Secure flag on cookies (and HSTS): true behind HTTPS. */
  COOKIE_SECURE: flagVar().default(false),
  /** How long the dashboard's figures are reused before they are recomputed (0: every request). */
  DASHBOARD_CACHE_SECONDS: intVar(0, 3600, 'seconds').default(60),
  LOG_LEVEL: logLevelVar(),
  /**
   * Proxies whose X-Forwarded-For names the client (sign-in throttling, audit): addresses or CIDR
   * ranges, comma-separated (`127.0.0.1,10.0.0.0/8`). Empty: the socket's address is the client's.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const entries = value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '');
      try {
        trustedProxyList(entries);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'is not valid' });
      }
      return entries;
    }),
  /** A session ends this many hours after sign-in, however active (the idle limit is 12 h). */
  SESSION_MAX_AGE_HOURS: intVar(1, 720, 'hours').default(24),
  /** When set, GET /metrics (console and worker) needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Let "Test connection" reach loopback, private and link-local addresses (a private-network instance). */
  ALLOW_PRIVATE_NETWORKS: flagVar().default(false),
});
export type WebEnv = z.infer<typeof webEnvSchema>;

export type WebEnvResult = EnvResult<WebEnv>;

/** The security settings of the environment, as startWeb takes them. */
export const securityOptionsOf = (env: WebEnv) => ({
  trustedProxies: env.TRUSTED_PROXIES,
  sessionMaxAgeSeconds: env.SESSION_MAX_AGE_HOURS * 3600,
  ...(env.METRICS_TOKEN === undefined ? {} : { metricsToken: env.METRICS_TOKEN }),
  allowPrivateNetworks: env.ALLOW_PRIVATE_NETWORKS,
});

/** Validates the environment; every bad or missing variable is listed, values of secrets never shown. */
export function loadWebEnv(source: Record<string, string | undefined>): WebEnvResult {
  return parseEnv(webEnvSchema, source);
}
