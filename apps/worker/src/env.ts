import { z } from 'zod';

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

/** The worker's environment, validated once at start. */
export const workerEnvSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/kikimimi'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** 32 bytes, base64 or hex: encrypts platform credentials at rest. Unset: generated into the data directory. */
  KIKIMIMI_ENCRYPTION_KEY: z.string().optional(),
  /** Where kikimimi keeps the generated encryption key (when none is configured). */
  KIKIMIMI_DATA_DIR: z.string().min(1).default('.kikimimi'),
  /** The demo world: `auto` runs it for each platform without a real account. */
  KIKIMIMI_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Generated posts per minute in the demo world. */
  KIKIMIMI_DEMO_RATE: z.coerce.number().min(1).max(6000).default(30),
  /** Prefix for every Redis key (queues, locks): several installations can share one Redis. */
  KIKIMIMI_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/u, 'use letters, digits, "-" or "_"')
    .default('kikimimi'),
  DISCORD_TOKEN: z.string().min(1).optional(),
  /** Discord REST base (default Discord itself); a stand-in's `http://127.0.0.1:PORT/api` in tests and the demo. */
  DISCORD_API_URL: url(['http:', 'https:']).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** The interface the metrics listen on (the console's HOST). */
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (at least 16 characters). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Jobs each worker process runs at once per queue. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export type EnvResult = { ok: true; env: WorkerEnv } | { ok: false; problems: string[] };

/** Validates the environment; every bad or missing variable is listed, values of secrets never shown. */
export function loadWorkerEnv(source: Record<string, string | undefined>): EnvResult {
  // An empty variable (`DISCORD_TOKEN=`, or compose's `${DISCORD_TOKEN:-}`) means "not set", as in the console.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = workerEnvSchema.safeParse(cleaned);
  if (parsed.success) return { ok: true, env: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    ),
  };
}
