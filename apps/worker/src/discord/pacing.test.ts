import { describe, expect, it } from 'vitest';
import { createChannelPacing } from './pacing.ts';

/** An answer's headers as Discord sends them for a bucket of `limit` per window. */
const answer = (limit: number, remaining: number, resetAfterS: number) => {
  const headers = new Map([
    ['x-ratelimit-limit', String(limit)],
    ['x-ratelimit-remaining', String(remaining)],
    ['x-ratelimit-reset-after', resetAfterS.toFixed(3)],
  ]);
  return { get: (name: string) => headers.get(name) ?? null };
};

describe('pacing of a channel’s messages', () => {
  it('lets reviews go as they come while most of the window is left, and spreads its last messages', () => {
    const pacing = createChannelPacing();
    expect(pacing.pace('c', 0)).toEqual({ waitMs: 0, inUse: false });
    expect(pacing.take('c', 0)).toBe(0);
    // Three sent at once (5 per 5 s): two left, kept for the rest of the window, one per second.
    pacing.observe('c', answer(5, 4, 5), 0);
    expect(pacing.pace('c', 10)).toEqual({ waitMs: 0, inUse: true });
    expect(pacing.take('c', 10)).toBe(0);
    pacing.observe('c', answer(5, 3, 4.99), 10);
    expect(pacing.take('c', 20)).toBe(0);
    pacing.observe('c', answer(5, 2, 4.98), 20);
    // Due when the two left, a second apart, last until the reset at 5 s: at 3 s.
    expect(pacing.pace('c', 30).waitMs).toBe(2_970);
    expect(pacing.take('c', 30)).toBe(2_970);
    expect(pacing.take('c', 3_000)).toBe(0);
    pacing.observe('c', answer(5, 1, 2), 3_000);
    expect(pacing.take('c', 3_100)).toBe(900);
    // Other channels are their own.
    expect(pacing.take('d', 3_100)).toBe(0);
  });

  it('counts each message it lets go as on its way, in a new window too; asking takes nothing', () => {
    const pacing = createChannelPacing();
    pacing.observe('c', answer(5, 4, 5), 0);
    expect(pacing.pace('c', 10).waitMs).toBe(0);
    expect(pacing.pace('c', 10).waitMs).toBe(0);
    // Three sending at once before any answer: two go (3 and 2 left), the third waits for its turn.
    expect(pacing.take('c', 10)).toBe(0);
    expect(pacing.take('c', 10)).toBe(0);
    expect(pacing.take('c', 10)).toBe(2_990);
    // The window is over: a new one starts with the next message, five of them, three at once.
    expect(pacing.pace('c', 6_000)).toEqual({ waitMs: 0, inUse: false });
    expect([6_000, 6_000, 6_000, 6_000].map((at) => pacing.take('c', at))).toEqual([0, 0, 0, 3_000]);
    expect(pacing.pace('c', 6_000).inUse).toBe(true);
  });

  it('spreads a channel said to be spent before it was ever heard of (a surge’s new thread) from its first answer', () => {
    const pacing = createChannelPacing();
    pacing.spent('t', 0);
    // Nothing known of its limit yet: the first message goes.
    expect(pacing.take('t', 0)).toBe(0);
    pacing.observe('t', answer(5, 4, 5), 100);
    // Then one a second, not three at once and a wait for the window's end.
    expect(pacing.take('t', 150)).toBe(950);
    expect(pacing.take('t', 1_100)).toBe(0);
    // Another channel first heard of now is not spread.
    pacing.observe('u', answer(5, 4, 5), 100);
    expect(pacing.take('u', 150)).toBe(0);
  });

  it('once a channel was found spent, spreads every message of its next windows after the first', () => {
    const pacing = createChannelPacing();
    pacing.observe('c', answer(5, 0, 4), 1_000);
    // Spent: the wait is the window's rest, and the channel counts as busy from now.
    expect(pacing.take('c', 1_000)).toBe(4_000);
    // The next window: its first message at once, then one a second.
    expect(pacing.take('c', 5_000)).toBe(0);
    pacing.observe('c', answer(5, 4, 5), 5_000);
    expect(pacing.take('c', 5_100)).toBe(900);
    pacing.observe('c', answer(5, 3, 4), 6_000);
    expect(pacing.take('c', 6_000)).toBe(1_000);
    // Two windows on without being spent: back to sending as they come.
    pacing.observe('c', answer(5, 4, 5), 12_000);
    expect(pacing.take('c', 12_000)).toBe(0);
  });

  it('counts a refusal by discord.js (the bucket it knows spent) as spent', () => {
    const pacing = createChannelPacing();
    pacing.observe('c', answer(5, 4, 5), 0);
    pacing.spent('c', 100);
    expect(pacing.take('c', 200)).toBe(800);
  });

  it('ignores answers without a rate limit and malformed ones', () => {
    const pacing = createChannelPacing();
    pacing.observe('c', { get: () => null }, 0);
    pacing.observe('c', answer(0, 0, 5), 0);
    pacing.observe('c', answer(5, Number.NaN, 5), 0);
    pacing.observe('c', { get: (name) => (name === 'x-ratelimit-remaining' ? null : '5') }, 0);
    expect(pacing.pace('c', 1)).toEqual({ waitMs: 0, inUse: false });
  });
});
