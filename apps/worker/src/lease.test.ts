import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@kikimimi/runtime';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runWithLease } from './lease.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL);
const prefix = `kk-test-lease-${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { log: createLogger({ name: 'test', level: 'info', destination }), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runWithLease (real Redis)', () => {
  it('a holder that keeps failing: its error is logged once, and retries back off', async () => {
    const { log, lines } = capture();
    const stop = new AbortController();
    const attempts: number[] = [];
    const started = Date.now();
    const running = runWithLease(
      redis,
      `${prefix}:failing`,
      async () => {
        attempts.push(Date.now() - started);
        throw new Error(attempts.length < 6 ? 'refused by postgres://u:pw@db/k' : 'another reason');
      },
      { signal: stop.signal, retryMs: 50, maxBackoffMs: 400, name: 'the thing', log },
    );
    await sleep(2_500);
    stop.abort();
    await running;
    // 50, 100, 200, 400, 400 … ms between attempts: about 8 in 2.5 s (without backoff: ~50).
    expect(attempts.length).toBeGreaterThanOrEqual(5);
    expect(attempts.length).toBeLessThanOrEqual(10);
    const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
    expect(gaps[3] as number).toBeGreaterThan(gaps[0] as number);
    const failures = lines.filter((line) => line.level === 50);
    // Once per distinct failure, secret-free, saying what failed and when it is tried again.
    expect(failures.map((line) => line.error)).toEqual([
      'refused by postgres://u:***@db/k',
      'another reason',
    ]);
    expect(failures[0]).toMatchObject({
      lease: 'the thing',
      msg: expect.stringMatching(/^the thing failed/u),
    });
    expect(failures[0]?.retryInMs).toEqual(expect.any(Number));
    expect(JSON.stringify(lines)).not.toContain(':pw@');
  });

  it('a holder that ran fine starts again at once after it stops, with a clean slate', async () => {
    const { log, lines } = capture();
    const stop = new AbortController();
    let runs = 0;
    const running = runWithLease(
      redis,
      `${prefix}:fine`,
      async () => {
        runs++;
      },
      { signal: stop.signal, retryMs: 50, maxBackoffMs: 10_000, name: 'fine', log },
    );
    await sleep(600);
    stop.abort();
    await running;
    expect(runs).toBeGreaterThanOrEqual(5);
    expect(lines.filter((line) => line.level === 50)).toEqual([]);
  });

  it('one holder at a time; the other takes over when the first lets go', async () => {
    const stopFirst = new AbortController();
    const stopSecond = new AbortController();
    const holding: string[] = [];
    const holder = (name: string) => (signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        holding.push(name);
        signal.addEventListener('abort', () => {
          holding.splice(holding.indexOf(name), 1);
          resolve();
        });
      });
    const options = { retryMs: 50, ttlMs: 600 };
    const first = runWithLease(redis, `${prefix}:one`, holder('first'), {
      ...options,
      signal: stopFirst.signal,
    });
    await sleep(200);
    const second = runWithLease(redis, `${prefix}:one`, holder('second'), {
      ...options,
      signal: stopSecond.signal,
    });
    await sleep(1_000); // longer than the TTL: renewals keep the first holder
    expect(holding).toEqual(['first']);
    stopFirst.abort();
    await first;
    await sleep(300);
    expect(holding).toEqual(['second']);
    stopSecond.abort();
    await second;
  });
});
