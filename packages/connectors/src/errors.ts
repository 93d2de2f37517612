import type { Platform } from '@kikimimi/rules';

/** Base of every error a connector throws: the platform, and whether trying again later can help. */
export abstract class ConnectorError extends Error {
  abstract readonly retryable: boolean;
  readonly platform: Platform;
  constructor(platform: Platform, message: string, options?: ErrorOptions) {
    super(message, options);
    this.platform = platform;
  }
}

/**
 * Which limit is spent: the usual short window (X: 15 minutes), or a 24-hour cap on the account
 * (`user-24h`, X's `x-user-limit-24hour-*`) or on the app (`app-24h`, `x-app-limit-24hour-*`).
 */
export type RateLimitScope = 'window' | 'user-24h' | 'app-24h';

/** The platform's rate limit is spent; try again at `resetAt` (from the platform's headers). */
export class RateLimitedError extends ConnectorError {
  override readonly name = 'RateLimitedError';
  readonly retryable = true;
  readonly resetAt: Date;
  /** Which limit is spent; a 24-hour cap means waiting until `resetAt`, not retrying every window. */
  readonly scope: RateLimitScope;
  constructor(platform: Platform, resetAt: Date, options?: ErrorOptions & { scope?: RateLimitScope }) {
    const scope = options?.scope ?? 'window';
    const what =
      scope === 'user-24h'
        ? `${platform} 24-hour posting cap of the account is spent`
        : scope === 'app-24h'
          ? `${platform} 24-hour cap of the app is spent`
          : `${platform} rate limit reached`;
    super(platform, `${what}; it resets at ${resetAt.toISOString()}`, options);
    this.resetAt = resetAt;
    this.scope = scope;
  }
}

/** The credentials were refused (401, or 403 on verify). Retrying will not help until they change. */
export class AuthFailedError extends ConnectorError {
  override readonly name = 'AuthFailedError';
  readonly retryable = false;
}

/**
 * The platform refuses an API reply to this post (X: 403 to posts that did not mention the account).
 * `manualUrl` opens the platform's composer with the same text, for a human to post by hand.
 */
export class ReplyNotAllowedError extends ConnectorError {
  override readonly name = 'ReplyNotAllowedError';
  readonly retryable = false;
  readonly manualUrl: string;
  constructor(platform: Platform, message: string, manualUrl: string, options?: ErrorOptions) {
    super(platform, message, options);
    this.manualUrl = manualUrl;
  }
}

/** 5xx, timeouts, dropped connections, unreadable bodies: try again with backoff. */
export class TransientError extends ConnectorError {
  override readonly name = 'TransientError';
  readonly retryable = true;
}

/** The request itself is wrong (400, 404, 422…): retrying the same request will fail the same way. */
export class PermanentError extends ConnectorError {
  override readonly name = 'PermanentError';
  readonly retryable = false;
}

/** The post is gone or hidden from this account (deleted, taken down, or its author's privacy). */
export class PostUnavailableError extends ConnectorError {
  override readonly name = 'PostUnavailableError';
  readonly retryable = false;
}

/** A block stands between our account and the post's author (either way): no reply is possible. */
export class BlockedError extends ConnectorError {
  override readonly name = 'BlockedError';
  readonly retryable = false;
}
