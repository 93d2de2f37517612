import { randomUUID } from 'node:crypto';
import { errorMessage } from '@kikimimi/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Default time-to-live of a lease: a holder that dies (SIGKILL, a lost machine) is replaced after at
 * most this long plus one retry interval. Renewed every quarter of it, so the holder survives an
 * event-loop stall or a Redis hiccup of up to three quarters of it.
 */
export const LEASE_TTL_MS = 6_000;
/** Default interval at which a replica without the lease tries to take it. */
export const LEASE_RETRY_MS = 1_000;
/** A holder that keeps failing is retried after 1 s, 2 s, 4 s … up to this. */
export const LEASE_MAX_BACKOFF_MS = 5 * 60_000;

export interface LeaseOptions {
  readonly signal: AbortSignal;
  /** Default {@link LEASE_TTL_MS}. */
  readonly ttlMs?: number;
  /** Default {@link LEASE_RETRY_MS}; also the first wait after a failure. */
  readonly retryMs?: number;
  /** Default {@link LEASE_MAX_BACKOFF_MS}. */
  readonly maxBackoffMs?: number;
  /** What is held, for the logs ("discord gateway"). */
  readonly name?: string;
  /** Where a failing holder is reported (once per distinct failure). */
  readonly log?: Logger;
  readonly onChange?: (held: boolean) => void;
}

/**
 * Runs `hold` while this process holds a Redis lease on `key`, so that a long-lived connection
 * (Discord gateway, a Mastodon stream) is held by one worker at a time whatever the number of
 * replicas. The lease is renewed every quarter of its time-to-live; if it is lost (another holder
 * took over after a pause, or Redis did not answer for a whole TTL) `hold`'s signal aborts. Other
 * replicas retry to acquire. When `hold` fails, the lease is given up and taken again after a wait
 * that doubles with each failure in a row (a wrong token must not hammer the platform), and the
 * failure is logged once for each new reason.
 */
export function runWithLease(
  redis: Redis,
  key: string,
  hold: (signal: AbortSignal) => Promise<void>,
  options: LeaseOptions,
): Promise<void> {
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const retryMs = options.retryMs ?? LEASE_RETRY_MS;
  const maxBackoffMs = options.maxBackoffMs ?? LEASE_MAX_BACKOFF_MS;
  const name = options.name ?? key;
  const token = randomUUID();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      options.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });

  let failures = 0;
  let lastFailure: string | null = null;
  const loop = async () => {
    while (!options.signal.aborted) {
      let acquired = false;
      try {
        acquired = (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
      } catch {
        acquired = false;
      }
      if (!acquired) {
        await sleep(retryMs);
        continue;
      }
      options.onChange?.(true);
      const lost = new AbortController();
      const stopOnShutdown = () => lost.abort();
      options.signal.addEventListener('abort', stopOnShutdown, { once: true });
      let renewedAt = Date.now();
      const renew = setInterval(
        async () => {
          try {
            if ((await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1) renewedAt = Date.now();
            else lost.abort();
          } catch {
            // A Redis hiccup: the lease is still ours until its TTL runs out.
            if (Date.now() - renewedAt >= ttlMs) lost.abort();
          }
        },
        Math.floor(ttlMs / 4),
      );
      const heldSince = Date.now();
      let failure: unknown = null;
      try {
        await hold(lost.signal);
      } catch (error) {
        failure = error ?? new Error('failed');
      } finally {
        clearInterval(renew);
        options.signal.removeEventListener('abort', stopOnShutdown);
        await redis.eval(RELEASE, 1, key, token).catch(() => {});
        options.onChange?.(false);
      }
      if (options.signal.aborted) break;
      // A holder that ran for a good while before failing starts a new series of failures.
      if (failure === null || Date.now() - heldSince >= maxBackoffMs) {
        failures = 0;
        lastFailure = null;
      }
      if (failure === null) {
        await sleep(Math.min(retryMs, 1_000));
        continue;
      }
      failures++;
      const waitMs = Math.min(maxBackoffMs, retryMs * 2 ** (failures - 1));
      const reason = errorMessage(failure);
      if (reason !== lastFailure) {
        options.log?.error(
          { lease: name, error: reason, failures, retryInMs: waitMs },
          `${name} failed; trying again in ${Math.round(waitMs / 100) / 10} s, then less and less often while it keeps failing (up to every ${Math.round(maxBackoffMs / 1000)} s)`,
        );
      } else {
        options.log?.debug(
          { lease: name, error: reason, failures, retryInMs: waitMs },
          `${name} failed again`,
        );
      }
      lastFailure = reason;
      await sleep(waitMs);
    }
  };
  return loop();
}
