import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import {
  AuthFailedError,
  ConnectorError,
  PermanentError,
  RateLimitedError,
  TransientError,
} from '../errors.ts';
import type { RateLimitState } from '../types.ts';
import { type XProblem, xProblemSchema } from './x-schemas.ts';

/** What the connector was doing, for error messages. */
export type XOperation =
  | 'search'
  | 'mentions'
  | 'reply'
  | 'reply lookup'
  | 'post'
  | 'post lookup'
  | 'verify credentials';

/** Removes secrets from text that leaves the connector (messages can quote what a server sent back). */
export type Redact = (text: string) => string;

export function createRedactor(secrets: readonly string[]): Redact {
  // Very short strings would blank out ordinary words; real tokens are long.
  const known = secrets.filter((s) => s.length >= 6);
  return (text) => known.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** The problem body of an X error answer (empty when it had none). */
export function problemOf(error: ApiResponseError): XProblem {
  const parsed = xProblemSchema.safeParse(error.data);
  return parsed.success ? parsed.data : {};
}

/**
 * `title: detail (errors[].message; …)` for messages. X's `detail` is often generic ("One or more
 * parameters to your request was invalid."): what went wrong is in `errors[].message`.
 */
export function describeProblem(problem: XProblem): string {
  const messages = [
    ...new Set((problem.errors ?? []).flatMap((e) => (e.message === undefined ? [] : [e.message]))),
  ];
  const head = [problem.title, problem.detail].filter((p): p is string => p !== undefined).join(': ');
  const tail = messages.filter((m) => m !== problem.detail).join('; ');
  if (head === '') return tail === '' ? 'no details' : tail;
  return tail === '' ? head : `${head} (${tail})`;
}

/** `'since_id' must be a tweet id created after …`: the cursor fell out of recent search's seven days. */
export function isStaleSinceId(problem: XProblem): boolean {
  return (problem.errors ?? []).some((e) =>
    /'since_id' must be a tweet id created after/u.test(e.message ?? ''),
  );
}

/** A 24-hour cap that the 429's headers say is spent, with its reset (seconds since the epoch). */
function dailyCapSpent(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { scope: 'user-24h' | 'app-24h'; resetAt: Date } | null {
  for (const [scope, prefix] of [
    ['user-24h', 'x-user-limit-24hour'],
    ['app-24h', 'x-app-limit-24hour'],
  ] as const) {
    const remaining = Number(headers[`${prefix}-remaining`]);
    const reset = Number(headers[`${prefix}-reset`]);
    if (
      headers[`${prefix}-remaining`] !== undefined &&
      remaining <= 0 &&
      Number.isFinite(reset) &&
      reset > 0
    ) {
      return { scope, resetAt: new Date(reset * 1000) };
    }
  }
  return null;
}

export const problemText = (problem: XProblem): string =>
  [problem.detail, ...(problem.errors ?? []).map((e) => e.message)].filter(Boolean).join(' ');

export const isDuplicateContent = (problem: XProblem) => /duplicate content/iu.test(problemText(problem));

/** 403s that mean the credentials or the app's access are wrong, not the request. */
export const isAccessProblem = (problem: XProblem) =>
  /\/problems\/(oauth1-permissions|client-forbidden|unsupported-authentication|not-authorized-for-resource)$/u.test(
    problem.type ?? '',
  );

/** The rate limit X reported on a response, as kikimimi states it. */
export function rateLimitState(rateLimit: { limit: number; remaining: number; reset: number } | undefined) {
  if (rateLimit === undefined || !Number.isFinite(rateLimit.reset)) return null;
  return {
    limit: rateLimit.limit,
    remaining: rateLimit.remaining,
    resetAt: new Date(rateLimit.reset * 1000),
  } satisfies RateLimitState;
}

/**
 * The socket error behind an ApiRequestError. twitter-api-v2 1.29 stores it as `error` but its
 * `requestError` getter reads `requestError`, so the getter is always undefined; read both.
 */
function networkCause(error: ApiRequestError): NodeJS.ErrnoException | undefined {
  const stored = (error as unknown as { _options?: { error?: unknown } })._options?.error;
  const cause: unknown = error.requestError ?? stored;
  return cause instanceof Error ? cause : undefined;
}

// When a 429 comes without headers, X's own windows are 15 minutes long.
const FALLBACK_WAIT_MS = 15 * 60 * 1000;

/**
 * Maps anything twitter-api-v2 throws to kikimimi's typed errors: 429 → RateLimitedError (reset from
 * `x-rate-limit-reset`), 401 → AuthFailedError, 5xx / dropped connections / timeouts / unreadable bodies
 * → TransientError, other 4xx → PermanentError. The original error is not attached as `cause`: it holds
 * the request, Authorization header included.
 */
export function toConnectorError(error: unknown, operation: XOperation, redact: Redact): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof ApiResponseError) {
    const problem = problemOf(error);
    const what = `X ${operation} failed with HTTP ${error.code}: ${redact(describeProblem(problem))}`;
    if (error.code === 429 || error.code === 420) {
      // A spent usage cap also arrives as 429, but waiting for the 15-minute window does not lift it.
      if (/\/problems\/usage-capped$/u.test(problem.type ?? '')) {
        return new PermanentError('x', `${what} (the usage cap is spent; raise it in the developer console)`);
      }
      // A spent 24-hour cap (X's x-user-limit-24hour-remaining: 0) outlasts the 15-minute window.
      const daily = dailyCapSpent(error.headers ?? {});
      if (daily !== null) return new RateLimitedError('x', daily.resetAt, { scope: daily.scope });
      const reset = rateLimitState(error.rateLimit)?.resetAt ?? new Date(Date.now() + FALLBACK_WAIT_MS);
      return new RateLimitedError('x', reset);
    }
    if (error.code === 401) return new AuthFailedError('x', what);
    if (error.code === 403 && (operation === 'verify credentials' || isAccessProblem(problem))) {
      return new AuthFailedError('x', what);
    }
    if (error.code >= 500 || error.code === 408) return new TransientError('x', what);
    return new PermanentError('x', what);
  }
  if (error instanceof ApiPartialResponseError) {
    return new TransientError(
      'x',
      redact(
        `X ${operation}: the response could not be read (${error.message}: ${error.responseError.message})`,
      ),
    );
  }
  if (error instanceof ApiRequestError) {
    const cause = networkCause(error);
    const code = cause?.code === undefined ? '' : ` (${cause.code})`;
    const message = cause?.message ?? 'no answer';
    return new TransientError('x', redact(`X ${operation}: the request failed: ${message}${code}`));
  }
  if (error instanceof SyntaxError) {
    return new TransientError(
      'x',
      redact(`X ${operation}: the response could not be read: ${error.message}`),
    );
  }
  // Anything else is a bug of ours, not X's: keep it visible as it is.
  throw error;
}
