import { XRPCError } from '@atproto/api';
import {
  AuthFailedError,
  BlockedError,
  ConnectorError,
  PermanentError,
  PostUnavailableError,
  RateLimitedError,
  TransientError,
} from '../errors.ts';
import type { RateLimitState } from '../types.ts';

export type BlueskyOperation =
  | 'search'
  | 'reply'
  | 'verify credentials'
  | 'login'
  | 'profiles'
  | 'post lookup'
  | 'notifications';

/** Bluesky's rate-limit headers (`ratelimit-limit`, `-remaining`, `-reset` in epoch seconds). */
export function readRateLimit(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): RateLimitState | null {
  if (headers === undefined) return null;
  const limit = Number(headers['ratelimit-limit']);
  const remaining = Number(headers['ratelimit-remaining']);
  const reset = Number(headers['ratelimit-reset']);
  if (![limit, remaining, reset].every((n) => Number.isFinite(n)) || headers['ratelimit-reset'] === undefined)
    return null;
  return { limit, remaining, resetAt: new Date(reset * 1000) };
}

const AUTH_ERRORS = new Set([
  'AuthenticationRequired',
  'InvalidToken',
  'ExpiredToken',
  'AccountTakedown',
  'AuthFactorTokenRequired',
  'AuthMissing',
]);
const NOT_FOUND = new Set(['NotFound', 'RecordNotFound', 'InvalidUri']);
const BLOCKED = new Set(['BlockedActor', 'BlockedByActor']);

/** Any failure of a Bluesky call as a typed ConnectorError naming the server; never carries credentials. */
export function toConnectorError(
  error: unknown,
  operation: BlueskyOperation,
  server: string,
): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const where = `Bluesky ${operation} at ${server}`;
  if (error instanceof XRPCError) {
    const status = error.status;
    const code = error.error ?? '';
    const said = error.message && error.message !== code ? `: ${error.message}` : '';
    if (status === 429) {
      const reset = readRateLimit(error.headers)?.resetAt ?? new Date(Date.now() + 5 * 60 * 1000);
      return new RateLimitedError('bluesky', reset, { cause: error });
    }
    if (status === 401 || AUTH_ERRORS.has(code))
      return new AuthFailedError('bluesky', `${where} refused the credentials (${code || status}${said})`, {
        cause: error,
      });
    if (BLOCKED.has(code) || /\bblock/iu.test(error.message))
      return new BlockedError(
        'bluesky',
        `${where}: a block stands between the accounts (${code || status}${said})`,
        {
          cause: error,
        },
      );
    if (NOT_FOUND.has(code) || status === 404)
      return new PostUnavailableError(
        'bluesky',
        `${where}: not found or not visible (${code || status}${said})`,
        {
          cause: error,
        },
      );
    if (status >= 500 || status < 100)
      return new TransientError('bluesky', `${where} failed (${status} ${code}${said}); will retry`, {
        cause: error,
      });
    return new PermanentError('bluesky', `${where} refused the request (${status} ${code}${said})`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
    return new TransientError('bluesky', `${where} timed out`, { cause: error });
  return new TransientError('bluesky', `${where} failed: ${message}`, { cause: error });
}
