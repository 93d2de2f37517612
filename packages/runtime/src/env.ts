import { parseEncryptionKey } from '@kikimimi/db';
import { z } from 'zod';

/** A URL with one of these protocols (`['postgres:', 'postgresql:']`). */
export const urlVar = (protocols: readonly string[]) =>
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

/** true/false, 1/0, yes/no. */
export const flagVar = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A whole number in [min, max]; `unit` names it in the messages ("seconds"). */
export const intVar = (min: number, max: number, unit = 'number') =>
  z.coerce
    .number({ message: `must be a ${unit === 'number' ? 'number' : `number of ${unit}`}` })
    .int(unit === 'number' ? 'must be a whole number' : `must be a whole number of ${unit}`)
    .min(min, `must be ${min}–${max}`)
    .max(max, `must be ${min}–${max}`);

/** A TCP port (0: an ephemeral one, or "off" where the variable says so). */
export const portVar = () =>
  z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be 0–65535')
    .max(65535, 'must be 0–65535');

/** The encryption key's text, checked without ever repeating it in the message. */
export const encryptionKeyVar = () =>
  z
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
    });

/** The variables every kikimimi process reads (web and worker alike), with their defaults; and LOG_LEVEL. */
export const commonEnv = {
  DATABASE_URL: urlVar(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/kikimimi'),
  REDIS_URL: urlVar(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /**
   * 32 bytes, base64 or hex: encrypts platform credentials at rest; the same for web and worker.
   * Unset: the key generated into KIKIMIMI_DATA_DIR (shared by the processes on this machine).
   */
  KIKIMIMI_ENCRYPTION_KEY: encryptionKeyVar(),
  /** Where kikimimi keeps the generated encryption key (when none is configured). */
  KIKIMIMI_DATA_DIR: z.string().min(1).default('.kikimimi'),
  /** Prefix for every Redis key (queues, locks, rate limits, pub/sub): the same for web and worker. */
  KIKIMIMI_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/u, 'use letters, digits, "-" or "_"')
    .default('kikimimi'),
};

/** LOG_LEVEL: pino's levels, default info. */
export const logLevelVar = () =>
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** The environment of a command that only needs the database (`kikimimi migrate`). */
export const databaseEnvSchema = z.object({ DATABASE_URL: commonEnv.DATABASE_URL });

export type EnvResult<T> = { ok: true; env: T } | { ok: false; problems: string[] };

/**
 * Validates an environment against an app's schema. An empty variable (`DISCORD_TOKEN=`, as
 * .env.example ships them) means "not set". Every bad variable is listed, as `NAME: what is wrong`;
 * values are never repeated (they may be secrets).
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): EnvResult<z.output<S>> {
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return { ok: true, env: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    ),
  };
}
