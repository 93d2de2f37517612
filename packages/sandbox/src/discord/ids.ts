import { randomBytes } from 'node:crypto';

/** Discord's epoch (2015-01-01T00:00:00Z) in milliseconds. */
export const DISCORD_EPOCH = 1_420_070_400_000;

/**
 * Snowflakes the way Discord makes them: milliseconds since its epoch in the top 42 bits, then a
 * worker, a process and an increment. Ids from one generator always increase, even if the clock
 * stands still or goes back.
 */
export function createSnowflakeGenerator(now: () => number): () => string {
  let last = 0n;
  let increment = 0n;
  return () => {
    const ms = BigInt(Math.max(now(), DISCORD_EPOCH) - DISCORD_EPOCH);
    let id = (ms << 22n) | (1n << 17n) | (increment++ & 0xfffn);
    if (id <= last) id = last + 1n;
    last = id;
    return id.toString();
  };
}

/** The time a snowflake was made at, in milliseconds since 1970. */
export const snowflakeTime = (id: string): number => Number(BigInt(id) >> 22n) + DISCORD_EPOCH;

/** Discord's timestamp format: ISO 8601 with microseconds and an explicit offset. */
export const discordTimestamp = (ms: number): string => new Date(ms).toISOString().replace('Z', '000+00:00');

/** An interaction token: opaque, URL-safe and long, like Discord's. */
export const interactionToken = (interactionId: string): string =>
  `aW50ZXJhY3Rpb246${Buffer.from(interactionId).toString('base64url')}${randomBytes(96).toString('base64url')}`;

/** A gateway session id: 32 hex digits, like Discord's. */
export const sessionId = (): string => randomBytes(16).toString('hex');
