import pino, { type Logger } from 'pino';

/** Paths that may carry secrets anywhere in a log object; pino replaces their values. */
export const REDACT_PATHS = [
  '*.token',
  '*.accessToken',
  '*.accessSecret',
  '*.appSecret',
  '*.appKey',
  '*.password',
  '*.credentials',
  '*.authorization',
  '*.headers.authorization',
  'token',
  'accessToken',
  'credentials',
  'password',
  'encryptionKey',
  '*.encryptionKey',
  'databaseUrl',
  'redisUrl',
];

/** The worker's logger: JSON lines, secrets redacted, level from the environment. */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'kikimimi-worker',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  );
}

/** Connection strings with their password masked, for messages. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
