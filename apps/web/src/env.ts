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
});
export type WebEnv = z.infer<typeof webEnvSchema>;

export type WebEnvResult = EnvResult<WebEnv>;

/** Validates the environment; every bad or missing variable is listed, values of secrets never shown. */
export function loadWebEnv(source: Record<string, string | undefined>): WebEnvResult {
  return parseEnv(webEnvSchema, source);
}
