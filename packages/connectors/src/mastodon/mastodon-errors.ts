import { MastoDeserializeError, MastoHttpError, MastoTimeoutError, MastoUnexpectedError } from 'masto';
import {
  AuthFailedError,
  ConnectorError,
  PermanentError,
  RateLimitedError,
  ReplyNotAllowedError,
  TransientError,
} from '../errors.ts';
import type { RateLimitState } from '../types.ts';
import { recentFailedAnswer } from './mastodon-http-status.ts';

/** What the connector was doing when the error happened; the same status means different things. */
export type MastodonOperation = 'poll' | 'reply' | 'post' | 'verify' | 'instance' | 'stream';

/** Where an error happened, and what it must not reveal. */
export interface ErrorContext {
  readonly operation: MastodonOperation;
  /** Strings that must never appear in a message (the access token). */
  readonly secrets: readonly string[];
  /** For replies: where a person can look at the post (ReplyNotAllowedError's `manualUrl`). */
  readonly manualUrl?: string;
  readonly now?: () => number;
  /** The instance's URL, named in messages about answers that are not the API's. */
  readonly instance?: string;
}

/** Used when a 429 carries no X-RateLimit-Reset: Mastodon's windows are 5 minutes long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 5 * 60 * 1000;

/** Reads Mastodon's X-RateLimit-* headers (the reset is an ISO 8601 timestamp, not epoch seconds). */
export function readRateLimit(headers: Headers | undefined): RateLimitState | null {
  if (headers === undefined) return null;
  const limit = Number(headers.get('x-ratelimit-limit') ?? Number.NaN);
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const resetAt = parseReset(headers.get('x-ratelimit-reset'));
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || resetAt === null) return null;
  return { limit, remaining, resetAt };
}

/** `2026-11-24T01:00:00.000000Z` (Ruby's `iso8601(6)`); also tolerates epoch seconds from look-alike servers. */
export function parseReset(value: string | null): Date | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  const millis = /^\d+(\.\d+)?$/u.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed);
  return Number.isFinite(millis) ? new Date(millis) : null;
}

/** masto keeps the failed `Response` as the error's cause: the only way to its headers. */
const responseOf = (error: MastoHttpError): Response | undefined =>
  error.cause instanceof Response ? error.cause : undefined;

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret !== '') out = out.replaceAll(secret, '[redacted]');
  return out;
}

function resetOf(response: Response | undefined, now: number): Date {
  const fromHeader = parseReset(response?.headers.get('x-ratelimit-reset') ?? null);
  if (fromHeader !== null) return fromHeader;
  const retryAfter = Number(response?.headers.get('retry-after') ?? Number.NaN);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return new Date(now + retryAfter * 1000);
  return new Date(now + DEFAULT_RATE_LIMIT_WAIT_MS);
}

const isAbort = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';

/**
 * Maps whatever masto (or fetch underneath it) threw to a ConnectorError. 429 → RateLimitedError
 * with the X-RateLimit-Reset of the response; 401, and 403 on verify or for a scope problem →
 * AuthFailedError; 403 on a reply → ReplyNotAllowedError; 5xx, 408, timeouts, network failures and
 * bodies masto cannot read → TransientError; other 4xx → PermanentError. The caller's own abort is
 * passed through untouched. Messages never contain the token.
 */
export function toConnectorError(error: unknown, context: ErrorContext): Error {
  if (error instanceof ConnectorError) return error;
  if (isAbort(error)) return error as Error;
  const now = context.now?.() ?? Date.now();
  const options = { cause: error };
  const what = context.operation;
  if (error instanceof MastoHttpError) {
    const status = error.statusCode;
    const said = redact(error.message || error.description || '', context.secrets);
    const detail = said === '' ? `${status}` : `${status} ${said}`;
    if (status === 429) return new RateLimitedError('mastodon', resetOf(responseOf(error), now), options);
    if (status === 401)
      return new AuthFailedError('mastodon', `Mastodon refused the access token (${detail})`, options);
    if (status === 403) {
      // Doorkeeper's scope refusal is a credentials problem wherever it happens.
      if (what === 'verify' || what === 'stream' || /scope|access token/iu.test(said)) {
        return new AuthFailedError('mastodon', `Mastodon refused the access token (${detail})`, options);
      }
      if (what === 'reply' && context.manualUrl !== undefined) {
        return new ReplyNotAllowedError(
          'mastodon',
          `Mastodon refused the reply (${detail})`,
          context.manualUrl,
          options,
        );
      }
      return new PermanentError('mastodon', `Mastodon refused the ${what} request (${detail})`, options);
    }
    if (status >= 500 || status === 408) {
      return new TransientError('mastodon', `Mastodon answered ${detail} to the ${what} request`, options);
    }
    if (what === 'reply' && status === 404) {
      // Mastodon answers 404 both for a deleted post and for one this account may not see.
      return new PermanentError(
        'mastodon',
        `the post to reply to no longer exists or is not visible to this account (${detail})`,
        options,
      );
    }
    return new PermanentError('mastodon', `Mastodon rejected the ${what} request (${detail})`, options);
  }
  if (error instanceof MastoTimeoutError) {
    return new TransientError('mastodon', `the ${what} request to Mastodon timed out`, options);
  }
  const unreadable =
    error instanceof MastoDeserializeError ||
    error instanceof MastoUnexpectedError ||
    error instanceof SyntaxError ||
    // masto's own TypeError when an error answer's body is an HTML page ("Cannot destructure…").
    (error instanceof TypeError && /destructure|of undefined/u.test(error.message));
  const failed =
    unreadable && context.instance !== undefined ? recentFailedAnswer(context.instance, now) : undefined;
  if (failed !== undefined && context.instance !== undefined) {
    return fromErrorPage(failed, context.instance, what, now, options);
  }
  if (
    error instanceof MastoDeserializeError ||
    error instanceof MastoUnexpectedError ||
    error instanceof SyntaxError
  ) {
    // The message of MastoDeserializeError quotes the whole body; ours does not.
    return new TransientError('mastodon', `Mastodon sent a body that could not be read (${what})`, options);
  }
  const message = error instanceof Error ? redact(error.message, context.secrets) : 'unknown failure';
  // fetch's "fetch failed" (refused, reset, DNS) and masto's TypeError on an HTML error page land here.
  return new TransientError('mastodon', `the ${what} request to Mastodon failed: ${message}`, options);
}

/**
 * An error answer whose body masto could not read (an HTML page from a proxy or CDN): classified by
 * its status like any other, and described with the status and the instance instead of masto's
 * parsing failure.
 */
function fromErrorPage(
  answer: { status: number; contentType: string; method: string; path: string },
  instance: string,
  what: MastodonOperation,
  now: number,
  options: ErrorOptions,
): ConnectorError {
  const page = answer.contentType === '' ? 'a body that is not JSON' : `a ${answer.contentType} page`;
  const said = `Mastodon at ${instance} answered HTTP ${answer.status} with ${page} to the ${what} request (${answer.method} ${answer.path})`;
  const { status } = answer;
  if (status === 429)
    return new RateLimitedError('mastodon', new Date(now + DEFAULT_RATE_LIMIT_WAIT_MS), options);
  if (status === 401 || (status === 403 && (what === 'verify' || what === 'stream'))) {
    return new AuthFailedError('mastodon', said, options);
  }
  if (status >= 500 || status === 408)
    return new TransientError('mastodon', `${said}; trying again later`, options);
  return new PermanentError('mastodon', said, options);
}
