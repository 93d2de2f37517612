import { commonEnv, type EnvResult, intVar, logLevelVar, parseEnv, portVar, urlVar } from '@kikimimi/runtime';
import { z } from 'zod';

/** The worker's environment, validated once at start (an empty variable is unset). */
export const workerEnvSchema = z.object({
  ...commonEnv,
  /** The demo world: `auto` runs it for each platform without a real account. */
  KIKIMIMI_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Generated posts per minute in the demo world. */
  KIKIMIMI_DEMO_RATE: z.coerce
    .number({ message: 'must be a number of posts a minute' })
    .min(1, 'must be 1–6000')
    .max(6000, 'must be 1–6000')
    .default(30),
  /** The Discord bot's token; unset: matches are reviewed in the web console only. */
  DISCORD_TOKEN: z.string().optional(),
  /** Discord REST base (default Discord itself); a stand-in's `http://127.0.0.1:PORT/api` in tests and the demo. */
  DISCORD_API_URL: urlVar(['http:', 'https:']).optional(),
  /**
   * `on`: what reviewers write in a case's Discord thread is kept as an internal note. Needs the bot's
   * Message Content intent (Developer Portal → Bot → Privileged Gateway Intents); without it Discord
   * refuses the connection. `off` (default): notes come from the "メモ" button and the console.
   */
  DISCORD_THREAD_NOTES: z.enum(['on', 'off']).default('off'),
  /** Prometheus metrics at /metrics on this port; 0 disables. */
  METRICS_PORT: portVar().default(9464),
  /** The interface the metrics listen on (the console's HOST). */
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (at least 16 characters). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: logLevelVar(),
  /** Jobs each worker process runs at once per queue. */
  WORKER_CONCURRENCY: intVar(1, 64).default(4),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Validates the environment; every bad variable is listed, values of secrets never shown. */
export function loadWorkerEnv(source: Record<string, string | undefined>): EnvResult<WorkerEnv> {
  return parseEnv(workerEnvSchema, source);
}
