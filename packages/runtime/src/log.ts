import pino, { type Logger } from 'pino';
import { maskUrl, redactSecrets } from './secrets.ts';

/** Keys whose value is a secret wherever it appears in a log object: pino replaces the value. */
const SECRET_KEYS = [
  'password',
  'token',
  'accessToken',
  'accessSecret',
  'refreshToken',
  'appKey',
  'appSecret',
  'apiKey',
  'clientSecret',
  'secret',
  'credentials',
  'cookie',
  'authorization',
  'encryptionKey',
  'KIKIMIMI_ENCRYPTION_KEY',
  'DISCORD_TOKEN',
];

/** Keys that hold connection strings: logged with the password masked (`postgres://u:***@host/db`). */
const URL_KEYS = ['databaseUrl', 'redisUrl', 'connectionString', 'DATABASE_URL', 'REDIS_URL'];

/** Paths that may carry secrets anywhere in a log object (top level and one level down). */
export const REDACT_PATHS: readonly string[] = [
  ...[...SECRET_KEYS, ...URL_KEYS].flatMap((key) => [key, `*.${key}`]),
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
];

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (URL_KEYS.includes(key) && typeof value === 'string') return maskUrl(value);
  return '[redacted]';
}

/** Masks secrets inside the strings of a log object (two levels deep: `{ error: { message } }`). */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  if (value instanceof Error) {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value)) as Error, value);
    copy.message = redactSecrets(value.message);
    if (value.stack) copy.stack = redactSecrets(value.stack);
    return copy;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth - 1)]));
}

/**
 * A kikimimi process's logger: JSON lines, one redaction list for every app (secret keys replaced,
 * connection strings masked, tokens and URL passwords inside messages masked), level from the
 * environment.
 */
export function createLogger(options: {
  name: string;
  level?: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: [...REDACT_PATHS], censor },
      formatters: { log: (object) => scrub(object, 2) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // The message and its format arguments (`log.warn(obj, 'failed: %s', reason)`).
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg));
          return method.apply(this, scrubbed as typeof args);
        },
      },
    },
    options.destination ?? process.stdout,
  );
}
