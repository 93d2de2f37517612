import { describe, expect, it } from 'vitest';
import { retimeNeeded, schedulerId } from './schedule.ts';

describe('retimeNeeded: when the poll scheduler follows the budget', () => {
  it.each([
    ['never re-timed', undefined, 2_000, true],
    ['the same interval', 2_000, 2_000, false],
    ['25 % slower', 2_000, 2_500, false],
    ['25 % faster', 2_000, 1_500, false],
    ['just over 25 % slower', 2_000, 2_501, true],
    ['just over 25 % faster', 2_000, 1_499, true],
    ['back to the configured interval after a rate limit', 7 * 60_000, 1_000, true],
  ] as const)('%s', (_case, current, next, expected) => {
    expect(retimeNeeded(current, next)).toBe(expected);
  });
});

describe('schedulerId', () => {
  it('is one per account and source, so every worker upserts the same scheduler', () => {
    expect(schedulerId('a1', 'x:search:0')).toBe('poll-a1-x:search:0');
    expect(schedulerId('a1', 'x:search:0')).not.toBe(schedulerId('a2', 'x:search:0'));
  });
});
