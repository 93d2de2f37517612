import pino, { type Logger } from 'pino';

/** Paths that may carry secrets anywhere in a log object; pino replaces their values. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'credentials',
  '*.credentials',
  'encryptionKey',
  '*.encryptionKey',
  'databaseUrl',
  'redisUrl',
];

/** The console's logger: JSON lines, secrets redacted, level from the environment. */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'kikimimi-web',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  );
}
