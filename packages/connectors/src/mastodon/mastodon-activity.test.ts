import { type MastodonSandbox, startMastodonSandbox } from '@kikimimi/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityItem, Connector } from '../types.ts';
import { createMastodonConnector } from './mastodon-connector.ts';

/** Following conversations on Mastodon: replies, favourites and boosts of our posts from notifications, through masto. */

let sandbox: MastodonSandbox;
let connector: Connector;

beforeEach(async () => {
  sandbox = await startMastodonSandbox();
  connector = createMastodonConnector({
    url: sandbox.url,
    accessToken: sandbox.accessToken,
    timeoutMs: 2_000,
  });
});
afterEach(async () => {
  await sandbox.close();
});

async function ourReplyTo(handle: string): Promise<string> {
  const post = sandbox.addPost({ text: `#brand help ${handle}`, author: { handle } });
  const ours = await connector.reply(
    { postId: post, url: `${sandbox.url}/@${handle}/${post}`, authorHandle: handle },
    'ご不便をおかけしております',
    { idempotencyKey: `k-${post}` },
  );
  return ours.id;
}

const describeItem = (item: ActivityItem) =>
  item.kind === 'answer'
    ? ['answer', item.post.inReplyTo, item.post.author.handle]
    : [item.kind, item.postId, item.author.handle];

describe('Mastodon activity', () => {
  it('hands on answers, favourites and boosts of our posts once, oldest first, paging forward', async () => {
    const ours = await ourReplyTo('hana');
    const first = await connector.activity?.(null);
    if (first === undefined) throw new Error('the Mastodon connector has no activity()');
    sandbox.addReply(ours, { text: 'ありがとうございます！', author: { handle: 'hana' } });
    sandbox.favourite(ours, { handle: 'hana' });
    sandbox.reblog(ours, { handle: 'hana' });
    const next = await connector.activity?.(first.cursor);
    expect(next?.items.map(describeItem)).toEqual([
      ['answer', ours, 'hana'],
      ['like', ours, 'hana'],
      ['repost', ours, 'hana'],
    ]);
    expect(next?.caughtUp).toBe(true);
    expect((await connector.activity?.(next?.cursor ?? null))?.items).toEqual([]);
  });

  it('a burst larger than the budget waits for the next call: nothing is skipped', async () => {
    const ours = await ourReplyTo('sora');
    const first = await connector.activity?.(null);
    for (let i = 0; i < 100; i++) sandbox.favourite(ours, { handle: `fan${i}` });
    const one = await connector.activity?.(first?.cursor ?? null, { pageBudget: 1 });
    expect(one?.caughtUp).toBe(false);
    const two = await connector.activity?.(one?.cursor ?? null, { pageBudget: 5 });
    const handles = [...(one?.items ?? []), ...(two?.items ?? [])].map((i) =>
      i.kind === 'like' ? i.author.handle : '',
    );
    expect(new Set(handles).size).toBe(100);
    expect(handles).toHaveLength(100);
  });
});
