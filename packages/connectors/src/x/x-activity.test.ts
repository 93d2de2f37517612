import { startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../errors.ts';
import type { Connector } from '../types.ts';
import { createXConnector } from './x-connector.ts';

/** Following conversations on X: answers to our posts from the mention timeline, through twitter-api-v2. */

let x: XSandbox;
let connector: Connector;

beforeEach(async () => {
  x = await startXSandbox();
  connector = createXConnector({
    baseUrl: x.url,
    credentials: { kind: 'oauth2', accessToken: x.bearerToken },
  });
});
afterEach(async () => {
  await x.close();
});

/** A customer's post, our reply to it (through the connector), its id. */
async function ourReplyTo(handle: string): Promise<{ post: string; ours: string }> {
  const post = x.addPost({ text: `shiorinote help ${handle}`, author: { handle } });
  const ours = await connector.reply(
    { postId: post, url: `https://x.com/${handle}/status/${post}`, authorHandle: handle },
    `Sorry about that, ${handle}`,
    { idempotencyKey: `k-${post}` },
  );
  return { post, ours: ours.id };
}

describe('X activity', () => {
  it('starts from now, then hands on each answer to our replies once, oldest first, in one request', async () => {
    const { ours } = await ourReplyTo('ken');
    const early = x.addReply(ours, {
      text: 'written before we started following',
      author: { handle: 'ken' },
    });
    const first = await connector.activity?.(null);
    if (first === undefined) throw new Error('the X connector has no activity()');
    expect(first.cursor).not.toBeNull();
    expect(first.items.map((i) => (i.kind === 'answer' ? i.post.id : ''))).toContain(early);

    const a = x.addReply(ours, { text: 'thanks, that worked!', author: { handle: 'ken' } });
    const b = x.addReply(ours, { text: 'one more question though', author: { handle: 'ken' } });
    x.resetUsage();
    const next = await connector.activity?.(first.cursor);
    expect(next?.items.map((i) => (i.kind === 'answer' ? [i.post.id, i.post.inReplyTo] : null))).toEqual([
      [a, ours],
      [b, ours],
    ]);
    expect(next?.requests).toBe(1);
    expect(next?.caughtUp).toBe(true);
    const again = await connector.activity?.(next?.cursor ?? null);
    expect(again?.items).toEqual([]);
  });

  it('one request covers the answers to many of our replies', async () => {
    const cursor = (await connector.activity?.(null))?.cursor ?? null;
    const ours = [];
    for (let i = 0; i < 30; i++) ours.push((await ourReplyTo(`u${i}`)).ours);
    for (const [i, id] of ours.entries())
      x.addReply(id, { text: `answer ${i}`, author: { handle: `u${i}` } });
    const result = await connector.activity?.(cursor);
    expect(result?.items).toHaveLength(30);
    expect(result?.requests).toBe(1);
  });

  it('refuses an unreadable cursor with a clear error', async () => {
    await expect(connector.activity?.('not-an-id')).rejects.toBeInstanceOf(PermanentError);
  });
});
