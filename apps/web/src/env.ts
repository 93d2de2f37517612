import { parseEncryptionKey } from '@kikimimi/db';
import { z } from 'zod';
import { trustedProxyList } from './auth/client-address.ts';

const url = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** The web console's environment, validated once at start. */
export const webEnvSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/kikimimi'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /**
   * 32 bytes, base64 or hex: encrypts platform credentials at rest (the console writes them). Must be
   * the worker's. Unset: the key generated into KIKIMIMI_DATA_DIR (shared with a worker on this machine).
   */
  KIKIMIMI_ENCRYPTION_KEY: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseEncryptionKey(value, 'it');
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: error instanceof Error ? error.message : 'is not a valid key',
        });
      }
    }),
  /** Where kikimimi keeps the generated encryption key (when none is configured). */
  KIKIMIMI_DATA_DIR: z.string().min(1).default('.kikimimi'),
  /** Prefix for every Redis key (queues, rate limits, pub/sub): must match the worker's. */
  KIKIMIMI_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/u, 'use letters, digits, "-" or "_"')
    .default('kikimimi'),
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  PORT: z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be 0–65535')
    .max(65535, 'must be 0–65535')
    .default(3000),
  /** Set the Secure flag on cookies (and HSTS): true behind HTTPS. */
  COOKIE_SECURE: flag.default(false),
  /** How long the dashboard's figures are reused before they are recomputed (0: every request). */
  DASHBOARD_CACHE_SECONDS: z.coerce
    .number({ message: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must be 0–3600')
    .max(3600, 'must be 0–3600')
    .default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  SESSION_MAX_AGE_HOURS: z.coerce
    .number({ message: 'must be a number of hours' })
    .int('must be a whole number of hours')
    .min(1, 'must be 1–720')
    .max(720, 'must be 1–720')
    .default(24),
  /** When set, GET /metrics (console and worker) needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Let "Test connection" reach loopback, private and link-local addresses (a private-network instance). */
  ALLOW_PRIVATE_NETWORKS: flag.default(false),
});
export type WebEnv = z.infer<typeof webEnvSchema>;

export type WebEnvResult = { ok: true; env: WebEnv } | { ok: false; problems: string[] };

/** The security settings of the environment, as startWeb takes them. */
export const securityOptionsOf = (env: WebEnv) => ({
  trustedProxies: env.TRUSTED_PROXIES,
  sessionMaxAgeSeconds: env.SESSION_MAX_AGE_HOURS * 3600,
  ...(env.METRICS_TOKEN === undefined ? {} : { metricsToken: env.METRICS_TOKEN }),
  allowPrivateNetworks: env.ALLOW_PRIVATE_NETWORKS,
});

/** Validates the environment; every bad or missing variable is listed, values of secrets never shown. */
export function loadWebEnv(source: Record<string, string | undefined>): WebEnvResult {
  // An empty variable (`PORT=`) means "not set".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = webEnvSchema.safeParse(cleaned);
  if (parsed.success) return { ok: true, env: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    ),
  };
}
