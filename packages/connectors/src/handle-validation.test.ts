import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizePost } from './bluesky/bluesky-normalize.ts';
import { normalizeStatus } from './mastodon/mastodon-normalize.ts';
import { camelizeKeys } from './mastodon/mastodon-schemas.ts';
import quickstart from './x/fixtures/search-recent-quickstart.json' with { type: 'json' };
import { normalizeTweet } from './x/x-normalize.ts';
import type { XUser } from './x/x-schemas.ts';

/**
 * Handles from platforms are checked at the boundary: a post whose author handle is invalid is rejected;
 * a mentioned handle that is invalid is left out of the post's mentions (the text keeps what was written).
 */

const statusLink = camelizeKeys(
  JSON.parse(readFileSync(new URL('./mastodon/fixtures/status-link.json', import.meta.url), 'utf8')),
) as { account: Record<string, unknown> } & Record<string, unknown>;

const withAcct = (acct: string) => ({ ...statusLink, account: { ...statusLink.account, acct } });

describe('Mastodon: the author acct', () => {
  it.each(['victim1 @bystander@mastodon.social', '<b>alice</b>', 'alice@', 'alice@localhost'])(
    'rejects a status whose acct is %j, saying why',
    (acct) => {
      const result = normalizeStatus(withAcct(acct));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.rejected.reason).toMatch(/author.*not a Mastodon account/u);
    },
  );

  it.each(['alice', 'alice@mastodon.social'])('accepts %j', (acct) => {
    expect(normalizeStatus(withAcct(acct)).ok).toBe(true);
  });
});

describe('X: the author username', () => {
  const tweet = quickstart.data[0] as Record<string, unknown>;
  const users = (username: string) =>
    new Map<string, XUser>([['9876543210', { id: '9876543210', username } as XUser]]);

  it.each(['has space', 'abcdefghijklmnop', 'user@example.com', '<img>'])(
    'rejects a post whose author username is %j, saying why',
    (username) => {
      const result = normalizeTweet(tweet, users(username));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.rejected.reason).toMatch(/author.*not an X username/u);
    },
  );

  it('accepts a valid username', () => {
    expect(normalizeTweet(tweet, users('pythondev')).ok).toBe(true);
  });
});

describe('Bluesky: the author handle and mentioned handles', () => {
  const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
  const uri = `at://${did}/app.bsky.feed.post/3l6oveex3ii2l`;
  const record = (text: string, facets: unknown[] = []) => ({
    $type: 'app.bsky.feed.post',
    text,
    createdAt: '2026-11-24T09:00:00.000Z',
    facets,
  });
  const byAuthor = (handle: string) =>
    normalizePost({ uri, author: { did, handle, displayName: '' }, record: record('ブクログ落ちてる') });
  const invalid = ['victim1 @bystander.bsky.social', '<b>alice</b>.bsky.social', 'alice.bsky.social.'];

  it.each(invalid)('rejects a post whose author handle is %j, saying why', (handle) => {
    expect(byAuthor(handle)).toEqual({
      id: uri,
      reason: expect.stringMatching(/^author\.handle: not a Bluesky handle/u),
    });
  });

  it.each(['alice.bsky.social', 'Example.com'])('accepts %j (lower-cased)', (handle) => {
    expect(byAuthor(handle)).toMatchObject({ author: { handle: handle.toLowerCase() } });
  });

  it.each(invalid)('leaves a mention whose handle is %j out of the mentions', (handle) => {
    const text = 'hi @someone ok';
    const mention = { $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:abc' };
    const facet = { index: { byteStart: 3, byteEnd: 11 }, features: [mention] };
    // The handle known for the mentioned DID, and the same text written in the post itself.
    const known = normalizePost({
      uri,
      author: { did, handle: 'alice.bsky.social' },
      record: record(text, [facet]),
      handles: new Map([['did:plc:abc', handle]]),
    });
    const written = `hi @${handle} ok`;
    const shown = normalizePost({
      uri,
      author: { did, handle: 'alice.bsky.social' },
      record: record(written, [
        {
          index: { byteStart: 3, byteEnd: 3 + new TextEncoder().encode(`@${handle}`).length },
          features: [mention],
        },
      ]),
    });
    expect(known).toMatchObject({ text, mentions: [] });
    expect(shown).toMatchObject({ text: written, mentions: [] });
  });

  it('keeps a valid mentioned handle', () => {
    const text = 'hi @someone ok';
    const facet = {
      index: { byteStart: 3, byteEnd: 11 },
      features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:abc' }],
    };
    expect(
      normalizePost({
        uri,
        author: { did, handle: 'alice.bsky.social' },
        record: record(text, [facet]),
        handles: new Map([['did:plc:abc', 'Bob.bsky.social']]),
      }),
    ).toMatchObject({ mentions: ['bob.bsky.social'] });
  });
});
