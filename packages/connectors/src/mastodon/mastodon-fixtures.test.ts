import { readFileSync } from 'node:fs';
import { createFaultInjector, type RunningServer, startHttpServer } from '@kikimimi/sandbox';
import { createRestAPIClient } from 'masto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMastodonConnector } from './mastodon-connector.ts';
import { normalizeStatus } from './mastodon-normalize.ts';
import { camelizeKeys, mastodonInstanceSchema } from './mastodon-schemas.ts';

/** Documentation examples (see fixtures/README.md), in the snake_case the server sends. */
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const statusLink = fixture('status-link');
const statusReblog = fixture('status-reblog');
const notification = fixture('notification-mention');
const instance = fixture('instance-v2');

// The fixtures go through masto exactly as a server's answers would: served over HTTP, read by masto.
let server: RunningServer;
beforeAll(async () => {
  const statuses = new Map([statusLink, statusReblog].map((s) => [s.id as string, s]));
  server = await startHttpServer({
    faults: createFaultInjector(),
    rateLimited: () => ({ status: 429, body: { error: 'Too many requests' } }),
    routes: [
      {
        method: 'GET',
        path: '/api/v1/statuses/:id',
        handler: (request) => {
          const found = statuses.get(request.params.id ?? '');
          return found === undefined
            ? { status: 404, body: { error: 'Record not found' } }
            : { status: 200, body: found };
        },
      },
      {
        method: 'GET',
        path: '/api/v1/notifications',
        handler: () => ({ status: 200, body: [notification] }),
      },
      { method: 'GET', path: '/api/v2/instance', handler: () => ({ status: 200, body: instance }) },
    ],
  });
});
afterAll(async () => {
  await server.close();
});

const fetchStatus = (id: string): Promise<unknown> =>
  createRestAPIClient({ url: server.url, accessToken: 't' }).v1.statuses.$select(id).fetch();

describe('Status (docs: entities/Status)', () => {
  it('normalises the documented example: link href in full, quotes decoded', async () => {
    const result = normalizeStatus(await fetchStatus('103270115826048975'));
    if (!result.ok) throw new Error(result.rejected.reason);
    expect(result.post).toEqual({
      platform: 'mastodon',
      id: '103270115826048975',
      url: 'https://mastodon.social/@Gargron/103270115826048975',
      author: { id: '1', handle: 'Gargron', displayName: 'Eugen', followers: 322930, protected: false },
      text:
        '"I lost my inheritance with one wrong digit on my sort code"\n\n' +
        'https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code',
      lang: 'en',
      createdAt: '2019-12-08T03:48:33.901Z',
      repostOf: null,
      inReplyTo: null,
      conversationId: null,
      hashtags: [],
      mentions: [],
    });
  });

  it('normalises a reblog: the booster as author, the reblogged text, tags and mentions, repostOf', async () => {
    const result = normalizeStatus(await fetchStatus('103254401326800919'));
    if (!result.ok) throw new Error(result.rejected.reason);
    expect(result.post).toEqual({
      platform: 'mastodon',
      id: '103254401326800919',
      // A reblog has no url of its own; its URI (the Announce activity) stands in.
      url: 'https://mastodon.social/users/trwnh/statuses/103254401326800919/activity',
      author: {
        id: '14715',
        handle: 'trwnh',
        displayName: 'infinite love ⴳ',
        followers: 821,
        protected: false,
      },
      text:
        'Caught on the hop. 😺\n\n' +
        '#Qualitätskatzen #cats #mastocats #catsofmastodon #Greece #Agistri\n' +
        '(photo: @kernpanik@chaos.social | license: CC BY-NC-SA 4.0)',
      lang: 'en',
      createdAt: '2019-12-05T09:12:09.625Z',
      repostOf: '103203659567597966',
      inReplyTo: null,
      conversationId: null,
      hashtags: ['qualitätskatzen', 'cats', 'mastocats', 'catsofmastodon', 'greece', 'agistri'],
      mentions: ['kernpanik@chaos.social'],
    });
  });

  it('reads a streaming payload (snake_case) exactly as masto reads the REST answer', async () => {
    for (const status of [statusLink, statusReblog]) {
      const viaMasto = normalizeStatus(await fetchStatus(status.id as string));
      const viaStream = normalizeStatus(camelizeKeys(JSON.parse(JSON.stringify(status))));
      expect(viaStream).toEqual(viaMasto);
    }
  });

  // Each case damages a copy of the documented status in one way.
  const damages: Record<string, (status: Record<string, unknown>) => void> = {
    'without account.acct': (s) => {
      delete (s.account as Record<string, unknown>).acct;
    },
    'without an id': (s) => {
      delete s.id;
    },
    'with content that is not a string': (s) => {
      s.content = 42;
    },
    'with a date that is not one': (s) => {
      s.created_at = 'yesterday';
    },
    'with neither url nor a valid uri': (s) => {
      s.url = null;
      s.uri = 'not a url';
    },
  };
  it.each([
    ['without account.acct', 'account.acct'],
    ['without an id', 'status: id'],
    ['with content that is not a string', 'content'],
    ['with a date that is not one', 'post: createdAt'],
    ['with neither url nor a valid uri', 'post: url'],
  ])('rejects a status %s, naming the field', (name, field) => {
    const status = structuredClone(statusLink);
    damages[name]?.(status);
    const result = normalizeStatus(camelizeKeys(status));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.rejected.reason).toContain(field);
  });

  it('keeps an unknown follower count (-1 from servers that hide it) as null, not a rejection', () => {
    const status = structuredClone(statusLink);
    (status.account as Record<string, unknown>).followers_count = -1;
    const result = normalizeStatus(camelizeKeys(status));
    expect(result.ok && result.post.author.followers).toBeNull();
  });
});

describe('Notification (docs: entities/Notification)', () => {
  it('polls the documented mention through the mentions source', async () => {
    const connector = createMastodonConnector({ url: server.url, accessToken: 't' });
    const result = await connector.poll({ platform: 'mastodon', kind: 'mentions', key: 'm' }, null);
    expect(result.posts).toHaveLength(1);
    expect(result.posts[0]).toMatchObject({
      id: '103186126728896492',
      text: '@trwnh thanks, that fixed it',
      inReplyTo: '103186038209478945',
      author: { handle: 'zsc' },
      mentions: ['trwnh'],
    });
    expect(result.postsRead).toBe(1);
    expect(result.rejected).toEqual([]);
  });
});

describe('Instance (docs: entities/Instance)', () => {
  it('parses the documented v2 instance', () => {
    const parsed = mastodonInstanceSchema.parse(camelizeKeys(instance));
    expect(parsed.configuration.statuses?.maxCharacters).toBe(500);
    expect(parsed.configuration.statuses?.charactersReservedPerUrl).toBe(23);
    expect(parsed.configuration.urls?.streaming).toBe('wss://mastodon.social');
  });

  it('gives maxReplyLength from configuration.statuses.max_characters', async () => {
    const connector = createMastodonConnector({ url: server.url, accessToken: 't' });
    expect(await connector.maxReplyLength()).toBe(500);
  });
});
