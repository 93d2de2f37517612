import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeStatus } from './mastodon/mastodon-normalize.ts';
import { camelizeKeys } from './mastodon/mastodon-schemas.ts';
import quickstart from './x/fixtures/search-recent-quickstart.json' with { type: 'json' };
import { normalizeTweet } from './x/x-normalize.ts';
import type { XUser } from './x/x-schemas.ts';

/** Handles from platforms are checked at the boundary: a post whose author handle is invalid is rejected. */

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
