import { createHash } from 'node:crypto';
import { CONFIG_CHANNEL } from '@kikimimi/desk';
import type { Redis } from 'ioredis';
import type { WebDeps } from './context.ts';

/**
 * Counters with expiry in Redis (`<prefix>:limit:<sha256 of the key>`): INCR in a window that starts
 * with the first hit. Keys are hashed, so what users typed (a username) never becomes a Redis key.
 */
export function createRedisLimiter(redis: Redis, prefix: string): WebDeps['limiter'] {
  const keyOf = (key: string) =>
    `${prefix}:limit:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  return {
    async hit(key, windowSeconds) {
      const k = keyOf(key);
      const results = await redis.multi().set(k, '0', 'EX', windowSeconds, 'NX').incr(k).exec();
      const [error, count] = results?.[1] ?? [new Error('redis transaction aborted'), null];
      if (error) throw error;
      return Number(count);
    },
    async release(key) {
      await redis.eval(
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n > 0 then redis.call('DECR', KEYS[1]) end return 0",
        1,
        keyOf(key),
      );
    },
    async reset(key) {
      await redis.del(keyOf(key));
    },
  };
}

/** Announces a configuration change to every worker (they subscribe to `<prefix>:config-changed`). */
export function createConfigPublisher(redis: Redis, prefix: string): WebDeps['publishConfigChanged'] {
  return async () => {
    await redis.publish(
      `${prefix}:${CONFIG_CHANNEL}`,
      JSON.stringify({ at: new Date().toISOString(), by: 'web' }),
    );
  };
}
