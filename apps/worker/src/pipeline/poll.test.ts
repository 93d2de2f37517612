import { AuthFailedError, PermanentError, RateLimitedError, TransientError } from '@kikimimi/connectors';
import { describe, expect, it } from 'vitest';
import { adaptiveIntervalMs, failureBackoffMs, failureNotBefore } from './poll.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const now = new Date('2026-11-24T00:00:00Z');
const inMs = (ms: number) => new Date(now.getTime() + ms);
const budget = (remaining: number, resetInMs: number) => ({
  limit: 450,
  remaining,
  resetAt: inMs(resetInMs),
});

describe('failureBackoffMs: the wait after failures in a row', () => {
  it.each([
    [0, 5 * SECOND],
    [1, 10 * SECOND],
    [2, 20 * SECOND],
    [5, 160 * SECOND],
    [7, 640 * SECOND],
    [8, 15 * MINUTE],
    [40, 15 * MINUTE],
    [-3, 5 * SECOND],
  ])('after %i earlier failures: %i ms (no jitter)', (failures, expected) => {
    expect(failureBackoffMs(failures, 5_000, () => 0.5)).toBe(expected);
  });

  it('doubles from the base it is given', () => {
    expect(failureBackoffMs(0, 250, () => 0.5)).toBe(250);
    expect(failureBackoffMs(3, 250, () => 0.5)).toBe(2_000);
  });

  it('jitters by ±20 % so sources that failed together do not retry together', () => {
    expect(failureBackoffMs(1, 5_000, () => 0)).toBe(8_000);
    expect(failureBackoffMs(1, 5_000, () => 0.999_999)).toBe(12_000);
    expect(failureBackoffMs(40, 5_000, () => 0.999_999)).toBe(18 * MINUTE);
  });
});

describe('adaptiveIntervalMs: staying within the platform budget', () => {
  it.each([
    ['no budget reported', 1_000, null, 1, 1_000],
    ["X's app budget, 450 searches per 15 minutes, one source", 1_000, budget(450, 15 * MINUTE), 1, 2_000],
    ['the same budget shared by 4 sources', 1_000, budget(450, 15 * MINUTE), 4, 8_000],
    ['a budget that allows faster than configured', 5_000, budget(450, 15 * MINUTE), 1, 5_000],
    ['budget spent: wait for the reset', 1_000, budget(0, 7 * MINUTE), 1, 7 * MINUTE],
    ['less than one request per source left', 1_000, budget(3, 7 * MINUTE), 4, 7 * MINUTE],
    ['a negative remaining count', 1_000, budget(-1, 7 * MINUTE), 1, 7 * MINUTE],
    ['a reset already past', 1_000, budget(0, -MINUTE), 1, 1_000],
    ['rounded up to the millisecond', 1_000, budget(7, 10 * SECOND + 1), 1, 1_429],
  ] as const)('%s', (_case, baseMs, rateLimit, sharedBy, expected) => {
    expect(adaptiveIntervalMs(baseMs, rateLimit, sharedBy, now)).toBe(expected);
  });

  it('treats "shared by 0 sources" as one', () => {
    expect(adaptiveIntervalMs(1_000, budget(450, 15 * MINUTE), 0, now)).toBe(2_000);
  });
});

describe('failureNotBefore: when a failed source is polled again', () => {
  const noJitter = () => 0.5;

  it('waits for the reset time a rate limit gave', () => {
    const error = new RateLimitedError('x', inMs(9 * MINUTE));
    expect(failureNotBefore(error, 0, now, 5_000, noJitter)).toEqual({
      kind: 'rate_limited',
      notBefore: inMs(9 * MINUTE),
    });
  });

  it.each([
    ['a transient error', new TransientError('x', 'HTTP 503'), 'transient'],
    ['an unknown error', new Error('socket hang up'), 'error'],
  ] as const)('backs off exponentially after %s', (_case, error, kind) => {
    expect(failureNotBefore(error, 0, now, 5_000, noJitter)).toEqual({ kind, notBefore: inMs(5 * SECOND) });
    expect(failureNotBefore(error, 3, now, 5_000, noJitter)).toEqual({ kind, notBefore: inMs(40 * SECOND) });
  });

  it.each([
    ['bad credentials', new AuthFailedError('x', 'HTTP 401'), 'auth'],
    ['a permanent refusal', new PermanentError('mastodon', 'HTTP 422'), 'permanent'],
  ] as const)(
    'waits at least 60 × the base (at most 15 min) after %s: fixing it takes a person',
    (_case, error, kind) => {
      expect(failureNotBefore(error, 0, now, 5_000, noJitter)).toEqual({ kind, notBefore: inMs(5 * MINUTE) });
      expect(failureNotBefore(error, 0, now, 250, noJitter)).toEqual({ kind, notBefore: inMs(15 * SECOND) });
      expect(failureNotBefore(error, 0, now, 60_000, noJitter)).toEqual({
        kind,
        notBefore: inMs(15 * MINUTE),
      });
      expect(failureNotBefore(error, 7, now, 5_000, noJitter)).toEqual({
        kind,
        notBefore: inMs(640 * SECOND),
      });
    },
  );
});
