import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Runs `hold` while this process holds a Redis lease on `key`, so that a long-lived connection
 * (Discord gateway, a Mastodon stream) is held by one worker at a time whatever the number of
 * replicas. The lease is renewed every third of its time-to-live; if renewal fails (Redis lost, or
 * another holder took over after a pause) `hold`'s signal aborts. Other replicas retry to acquire.
 */
export function runWithLease(
  redis: Redis,
  key: string,
  hold: (signal: AbortSignal) => Promise<void>,
  options: { ttlMs?: number; retryMs?: number; signal: AbortSignal; onChange?: (held: boolean) => void },
): Promise<void> {
  const ttlMs = options.ttlMs ?? 15_000;
  const retryMs = options.retryMs ?? 5_000;
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
      const renew = setInterval(
        async () => {
          try {
            if ((await redis.eval(RENEW, 1, key, token, String(ttlMs))) !== 1) lost.abort();
          } catch {
            lost.abort();
          }
        },
        Math.floor(ttlMs / 3),
      );
      try {
        await hold(lost.signal);
      } catch {
        // The holder failed: give the lease up so that this or another replica starts afresh.
      } finally {
        clearInterval(renew);
        options.signal.removeEventListener('abort', stopOnShutdown);
        await redis.eval(RELEASE, 1, key, token).catch(() => {});
        options.onChange?.(false);
      }
      if (!options.signal.aborted) await sleep(Math.min(retryMs, 1_000));
    }
  };
  return loop();
}
