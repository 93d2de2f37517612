import { startXSandbox } from '@kikimimi/sandbox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TransientError } from '../errors.ts';
import type { PollSource } from '../types.ts';
import { createXConnector } from './x-connector.ts';
import { compareIds, decodeCursor, encodeCursor, isEmptyRange, maxId } from './x-cursor.ts';

const id = fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String);

describe('cursor encoding', () => {
  it('reads back what it writes', () => {
    fc.assert(
      fc.property(fc.option(id, { nil: null }), fc.uniqueArray(id, { maxLength: 8 }), (sinceId, raw) => {
        const bounds = raw.filter((b) => sinceId === null || compareIds(b, sinceId) > 0).sort(compareIds);
        const cursor = { sinceId, bounds };
        const encoded = encodeCursor(cursor);
        expect(decodeCursor(encoded)).toEqual(encoded === null ? { sinceId: null, bounds: [] } : cursor);
      }),
    );
  });

  it.each([
    ['not JSON', '{'],
    ['another version', '{"v":2,"sinceId":null}'],
    ['bounds below sinceId', '{"v":1,"sinceId":"10","bounds":["5"]}'],
    ['bounds out of order', '{"v":1,"sinceId":null,"bounds":["7","5"]}'],
    ['a non-numeric id', '{"v":1,"sinceId":"1e3"}'],
  ])('refuses %s', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(RangeError);
  });

  it('reads a bare id as sinceId', () => {
    expect(decodeCursor('1790000000000000000')).toEqual({ sinceId: '1790000000000000000', bounds: [] });
  });

  it('compares ids beyond 2^53 exactly', () => {
    expect(compareIds('9007199254740993', '9007199254740992')).toBe(1);
    expect(maxId('1212092628029698048', '1212092628029698049')).toBe('1212092628029698049');
    expect(isEmptyRange('9007199254740992', '9007199254740993')).toBe(true);
    expect(isEmptyRange('9007199254740992', '9007199254740994')).toBe(false);
  });
});

describe('polling, whatever the burst, budget, arrivals and failures', () => {
  const source: PollSource = { platform: 'x', kind: 'search', key: 'x:property', query: 'kikimimi' };

  it('hands on every post exactly once, oldest first, never more pages than the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          initial: fc.nat({ max: 70 }),
          pageSize: fc.constantFrom(10, 20),
          pageBudget: fc.integer({ min: 1, max: 4 }),
          arrivals: fc.array(fc.nat({ max: 25 }), { maxLength: 6 }),
          failures: fc.array(fc.constantFrom('none', 'status', 'drop', 'rate-limit'), { maxLength: 6 }),
          // A small request window also cuts polls short in the middle, after some pages were read.
          windowLimit: fc.integer({ min: 2, max: 8 }),
        }),
        async ({ initial, pageSize, pageBudget, arrivals, failures, windowLimit }) => {
          const x = await startXSandbox({ rateLimit: { limit: windowLimit } });
          try {
            const connector = createXConnector({
              baseUrl: x.url,
              credentials: { kind: 'oauth2', accessToken: x.bearerToken },
            });
            const added: string[] = [];
            const add = (n: number) => {
              for (let i = 0; i < n; i++) {
                added.push(x.addPost({ text: `kikimimi ${added.length}`, author: { handle: `u${i % 3}` } }));
              }
            };
            // A first poll starts from now (one page): the property is about everything after it.
            add(1);
            const first = await connector.poll(source, null, { pageSize });
            x.resetRateLimit();
            const delivered: string[] = first.posts.map((p) => p.id);
            let cursor: string | null = first.cursor;
            add(initial);
            for (let poll = 0; ; poll++) {
              if (poll > 400) throw new Error('never caught up');
              add(arrivals[poll] ?? 0);
              const failure = failures[poll] ?? 'none';
              if (failure === 'status') x.faults.inject({ fault: { kind: 'status', status: 503 } });
              if (failure === 'drop') x.faults.inject({ fault: { kind: 'drop' } });
              if (failure === 'rate-limit')
                x.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 60 } });
              let result: Awaited<ReturnType<typeof connector.poll>>;
              try {
                result = await connector.poll(source, cursor, { pageSize, pageBudget });
              } catch (error) {
                // A failed poll changes nothing: the same cursor is tried again.
                if (!(error instanceof Error) || !('retryable' in error) || !error.retryable) throw error;
                if (error instanceof RateLimitedError) x.resetRateLimit();
                else expect(failure).not.toBe('none');
                continue;
              }
              expect(result.pages).toBeLessThanOrEqual(pageBudget);
              delivered.push(...result.posts.map((p) => p.id));
              if (result.rateLimit?.remaining === 0) x.resetRateLimit();
              cursor = result.cursor;
              if (result.caughtUp && poll >= arrivals.length) break;
            }
            expect(delivered).toEqual(added);
          } finally {
            await x.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('a failed first page throws and the retry with the same cursor loses nothing', async () => {
    const x = await startXSandbox();
    try {
      const connector = createXConnector({
        baseUrl: x.url,
        credentials: { kind: 'oauth2', accessToken: x.bearerToken },
      });
      const ids = [x.addPost({ text: 'kikimimi a', author: { handle: 'a' } })];
      const first = await connector.poll(source, null);
      ids.push(x.addPost({ text: 'kikimimi b', author: { handle: 'b' } }));
      x.faults.inject({ fault: { kind: 'status', status: 502 } });
      await expect(connector.poll(source, first.cursor)).rejects.toBeInstanceOf(TransientError);
      const retry = await connector.poll(source, first.cursor);
      expect([...first.posts, ...retry.posts].map((p) => p.id)).toEqual(ids);
    } finally {
      await x.close();
    }
  });
});
