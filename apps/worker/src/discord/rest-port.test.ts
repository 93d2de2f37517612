import { type DiscordSandbox, startDiscordSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordBusyError } from './port.ts';
import { createRestDiscordPort } from './rest-port.ts';

// discord.js's REST client against the Discord stand-in with its per-channel limit on (5 messages per
// 5 s): a send that may fail gives up at once when the channel's bucket is spent, one that may not waits.
let sandbox: DiscordSandbox;

beforeAll(async () => {
  sandbox = await startDiscordSandbox({ channelRateLimit: true });
});
afterAll(async () => {
  await sandbox?.close();
});

const body = (n: number) => ({ content: `review ${n}`, embeds: [], components: [] });

describe('sending to a busy channel', () => {
  it("fails at once with the time to wait (nothing sent), while another channel's sends go on", async () => {
    const port = createRestDiscordPort({ token: sandbox.token, api: sandbox.apiUrl });
    const review = sandbox.channelId('review');
    const other = sandbox.channelId('review-x');
    for (let n = 0; n < 5; n++) await port.send(review, body(n), { nonce: `n${n}`, busy: 'fail' });
    const started = Date.now();
    const refused = await port.send(review, body(5), { nonce: 'n5', busy: 'fail' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DiscordBusyError);
    expect((refused as DiscordBusyError).retryAfterMs).toBeGreaterThan(0);
    // At most the bucket's 5 s (discord.js adds its 50 ms offset for clock skew).
    expect((refused as DiscordBusyError).retryAfterMs).toBeLessThanOrEqual(5_100);
    // Refused by the client before a request: at once, and nothing was sent.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sandbox.messages(review).filter((m) => m.content === 'review 5')).toEqual([]);
    // Another channel has a bucket of its own.
    await port.send(other, body(6), { nonce: 'n6', busy: 'fail' });
    expect(sandbox.messages(other).some((m) => m.content === 'review 6')).toBe(true);
    // Waiting (the default): sent once the bucket resets.
    const sent = await port.send(review, body(7), { nonce: 'n7' });
    expect(sandbox.messages(review).some((m) => m.id === sent.id)).toBe(true);
  }, 20_000);
});

describe('pacing from Discord’s headers', () => {
  it('spreads the last messages of a window, and every one after the first once the channel was spent', async () => {
    const port = createRestDiscordPort({ token: sandbox.token, api: sandbox.apiUrl });
    const channel = sandbox.channelId('review-mastodon');
    expect(port.pace(channel)).toEqual({ waitMs: 0, inUse: false });
    // Three of the window's five at once: the two left are spread over the rest of the 5 s.
    for (let n = 0; n < 3; n++) {
      expect(port.pace(channel).waitMs).toBe(0);
      await port.send(channel, body(n), { nonce: `p${n}`, busy: 'pace' });
    }
    const wait = port.pace(channel).waitMs;
    expect(wait).toBeGreaterThan(1_000);
    expect(wait).toBeLessThanOrEqual(3_000);
    expect(port.pace(channel).inUse).toBe(true);
    // A paced send is refused before anything is sent; one that may not be paced goes.
    const refused = await port.send(channel, body(9), { nonce: 'p9', busy: 'pace' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DiscordBusyError);
    expect((refused as DiscordBusyError).retryAfterMs).toBeLessThanOrEqual(wait);
    expect(sandbox.messages(channel).filter((m) => m.content === 'review 9')).toEqual([]);
    for (let n = 3; n < 5; n++) await port.send(channel, body(n), { nonce: `p${n}`, busy: 'fail' });
    // Spent: a review would wait for the reset.
    const reset = port.pace(channel).waitMs;
    expect(reset).toBeGreaterThan(wait - 500);
    expect(reset).toBeLessThanOrEqual(5_000);
    await new Promise((resolve) => setTimeout(resolve, reset + 50));
    // The next window: its first message at once, the next a second after it.
    expect(port.pace(channel)).toEqual({ waitMs: 0, inUse: false });
    await port.send(channel, body(5), { nonce: 'p5', busy: 'pace' });
    const next = port.pace(channel).waitMs;
    expect(next).toBeGreaterThan(0);
    expect(next).toBeLessThanOrEqual(1_000);
  }, 20_000);
});

describe('a thread started for reviews that come faster than Discord takes them', () => {
  it('spreads its messages from the first: the second waits for its turn', async () => {
    const port = createRestDiscordPort({ token: sandbox.token, api: sandbox.apiUrl });
    const channel = sandbox.channelId('review');
    const parent = await port.send(channel, body(20), { nonce: 's20' });
    const spread = await port.thread(channel, parent.id, 'surge', { spread: true });
    await port.send(spread, body(21), { nonce: 's21', busy: 'pace' });
    const wait = port.pace(spread).waitMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // A thread started without it (a case's) lets three go at once, as any channel.
    const other = await port.send(channel, body(22), { nonce: 's22' });
    const plain = await port.thread(channel, other.id, 'case');
    await port.send(plain, body(23), { nonce: 's23', busy: 'pace' });
    expect(port.pace(plain).waitMs).toBe(0);
  }, 20_000);
});
