import type { MatchRecord } from '@kikimimi/db';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { announce } from './ingest.ts';

/** Just enough of a match for announce(): its id, platform, intent and whether it is suppressed. */
const match = (id: string, suppressed: boolean) =>
  ({ id, platform: 'x', suppressed, decision: { intent: 'complaint' } }) as unknown as MatchRecord;

describe('announce: what follows the storing of new matches', () => {
  it('tells the consoles about every new match (the live inbox) and asks a review for the unsuppressed', async () => {
    const told: Array<[string, readonly string[]]> = [];
    const notified: string[][] = [];
    await announce([match('m-1', false), match('m-2', true)], {
      metrics: createMetrics(),
      enqueue: {
        notify: async () => {},
        notifyMany: async () => {},
        release: async () => {},
        // A review goes through the surge detector (worker.ts decides where it goes).
        review: async (ids: readonly string[]) => {
          notified.push([...ids]);
        },
        surgeMessage: async () => {},
      },
      announceMatches: (kind, ids) => told.push([kind, ids]),
    });
    expect(told).toEqual([['new', ['m-1', 'm-2']]]);
    expect(notified).toEqual([['m-1']]);
  });

  it('says nothing when nothing is new', async () => {
    const told: unknown[] = [];
    await announce([], {
      metrics: createMetrics(),
      enqueue: {
        notify: async () => {},
        notifyMany: async () => {},
        release: async () => {},
        review: async () => {},
        surgeMessage: async () => {},
      },
      announceMatches: (kind, ids) => told.push([kind, ids]),
    });
    expect(told).toEqual([]);
  });
});
