import { describe, expect, it } from 'vitest';
import { createSchedulerKeeper, retimeNeeded, schedulerId } from './schedule.ts';

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

describe('createSchedulerKeeper: one sync at a time, the latest configuration wins', () => {
  it('runs requests made during a sync as one more sync after it, never two at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const gates: Array<() => void> = [];
    const keeper = createSchedulerKeeper(async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    });
    const first = keeper.request();
    // Three configuration changes while the first sync runs: one more sync, which reads the latest.
    const later = [keeper.request(), keeper.request(), keeper.request()];
    expect(runs).toBe(1);
    gates.shift()?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    gates.shift()?.();
    await Promise.all(later);
    expect(most).toBe(1);
    expect(runs).toBe(2);
  });

  it('goes on after a failed sync', async () => {
    let calls = 0;
    const keeper = createSchedulerKeeper(async () => {
      calls++;
      if (calls === 1) throw new Error('redis down');
    });
    await expect(keeper.request()).rejects.toThrow('redis down');
    await keeper.request();
    expect(calls).toBe(2);
  });
});
