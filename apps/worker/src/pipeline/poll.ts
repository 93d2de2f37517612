import {
  AuthFailedError,
  type ConnectorError,
  PermanentError,
  type PollResult,
  RateLimitedError,
  TransientError,
} from '@kikimimi/connectors';
import type { PlatformAccount } from '@kikimimi/db';
import type { JobPayload } from '@kikimimi/desk';
import { sourcesFor } from '../sources.ts';
import type { PipelineDeps } from './deps.ts';
import { ingestPosts } from './ingest.ts';

const MINUTE = 60_000;

/** Wait before polling again after failure n+1 in a row: base, 2×base, 4×base … at most 15 min, with ±20 % jitter. */
export function failureBackoffMs(consecutiveFailures: number, baseMs = 5_000, random = Math.random): number {
  const base = Math.min(15 * MINUTE, baseMs * 2 ** Math.max(0, consecutiveFailures));
  return Math.round(base * (0.8 + random() * 0.4));
}

/**
 * When a source that failed is polled again, by kind of failure: a rate limit waits for the reset the
 * platform gave; bad credentials and permanent refusals (a person has to fix them) at least 60 × the
 * base, at most 15 min; anything else backs off exponentially.
 */
export function failureNotBefore(
  error: unknown,
  consecutiveFailures: number,
  now: Date,
  baseMs = 5_000,
  random = Math.random,
): { kind: 'rate_limited' | 'transient' | 'auth' | 'permanent' | 'error'; notBefore: Date } {
  if (error instanceof RateLimitedError) return { kind: 'rate_limited', notBefore: error.resetAt };
  const backoff = failureBackoffMs(consecutiveFailures, baseMs, random);
  const after = (ms: number) => new Date(now.getTime() + ms);
  if (error instanceof AuthFailedError || error instanceof PermanentError) {
    return {
      kind: error instanceof AuthFailedError ? 'auth' : 'permanent',
      notBefore: after(Math.max(backoff, Math.min(15 * MINUTE, 60 * baseMs))),
    };
  }
  return { kind: error instanceof TransientError ? 'transient' : 'error', notBefore: after(backoff) };
}

/**
 * The interval that keeps a source within the platform's remaining budget: the requests left until
 * the reset, shared by the account's sources, never faster than the configured interval.
 */
export function adaptiveIntervalMs(
  baseMs: number,
  rateLimit: PollResult['rateLimit'],
  sharedBy: number,
  now: Date,
): number {
  if (rateLimit === null) return baseMs;
  const untilReset = Math.max(0, rateLimit.resetAt.getTime() - now.getTime());
  const perSource = Math.max(0, rateLimit.remaining) / Math.max(1, sharedBy);
  if (perSource < 1) return Math.max(baseMs, untilReset);
  return Math.max(baseMs, Math.ceil(untilReset / perSource));
}

export type PollOutcomeKind = 'polled' | 'skipped' | 'backoff' | 'failed';

/**
 * One poll of one source: reads since the stored cursor, hands the posts to ingest (which stores
 * them with the new cursor in one transaction) and records the platform's budget. Failures are
 * recorded with a not-before time instead of being retried at once: a failing platform is never
 * hammered.
 */
export async function handlePoll(
  job: JobPayload<'poll'>,
  deps: PipelineDeps,
): Promise<{ outcome: PollOutcomeKind; posts?: number; nextIntervalMs?: number }> {
  const { store, engines, connectors, log, metrics } = deps;
  const account = await store.accounts.get(job.accountId);
  if (account === null || !account.enabled) return { outcome: 'skipped' };
  const now = deps.now();
  const state = await store.sources.get(account.id, job.sourceKey);
  if (state?.notBefore && state.notBefore > now) return { outcome: 'backoff' };

  const { engine } = await engines.current();
  const sources = sourcesFor(account, engine).poll;
  const source = sources.find((s) => s.key === job.sourceKey);
  if (source === undefined) return { outcome: 'skipped' }; // the watches changed; the scheduler sync removes it

  let result: PollResult;
  let maxCharacters: number | undefined;
  try {
    const connector = await connectors.get(account);
    result = await connector.poll(source, state?.cursor ?? null, { pageBudget: 5 });
    if (account.platform === 'mastodon') maxCharacters = await connector.maxReplyLength();
  } catch (error) {
    await recordPollFailure(account, job.sourceKey, error, state?.consecutiveFailures ?? 0, deps);
    return { outcome: 'failed' };
  }

  await ingestPosts(
    {
      accountId: account.id,
      posts: result.posts,
      cursor: {
        sourceKey: job.sourceKey,
        outcome: {
          cursor: result.cursor,
          // Stored only over the cursor this poll started from: a slow poll overlapping the next one
          // (on another worker) must not replace a newer cursor and drop its pending segments.
          previousCursor: state?.cursor ?? null,
          rateLimit: result.rateLimit,
          postsRead: result.postsRead,
          requests: result.pages,
        },
      },
      ...(maxCharacters ? { maxCharacters: { mastodon: maxCharacters } } : {}),
    },
    deps,
  );
  metrics.polls.inc({ platform: account.platform, outcome: 'ok' });
  metrics.postsRead.inc({ platform: account.platform }, result.postsRead);
  if (result.rejected.length > 0) {
    log.warn(
      { account: account.label, source: job.sourceKey, rejected: result.rejected.slice(0, 5) },
      'skipped posts the platform sent malformed',
    );
  }
  const nextIntervalMs = adaptiveIntervalMs(
    account.pollIntervalSeconds * 1000,
    result.rateLimit,
    sources.length,
    now,
  );
  return { outcome: 'polled', posts: result.posts.length, nextIntervalMs };
}

export async function recordPollFailure(
  account: PlatformAccount,
  sourceKey: string,
  error: unknown,
  failures: number,
  deps: PipelineDeps,
): Promise<void> {
  const now = deps.now();
  const { kind, notBefore } = failureNotBefore(error, failures, now, deps.pollBackoffBaseMs);
  const message = error instanceof Error ? error.message : String(error);
  await deps.store.sources.recordFailure(account.id, sourceKey, message, notBefore, now);
  deps.metrics.polls.inc({ platform: account.platform, outcome: kind });
  const level = kind === 'rate_limited' || kind === 'transient' ? 'warn' : 'error';
  deps.log[level](
    {
      account: account.label,
      platform: account.platform,
      source: sourceKey,
      kind,
      notBefore,
      error: message,
      retryable: (error as ConnectorError).retryable,
    },
    'poll failed',
  );
}
