import { describe, expect, it } from 'vitest';
import unauthorized from './fixtures/error-401-unauthorized.json' with { type: 'json' };
import duplicate from './fixtures/error-403-duplicate-content.json' with { type: 'json' };
import replyNotAllowed from './fixtures/error-403-reply-not-allowed.json' with { type: 'json' };
import rateLimitsDoc from './fixtures/error-429-rate-limits-doc.json' with { type: 'json' };
import tooManyRequests from './fixtures/error-429-too-many-requests.json' with { type: 'json' };
import created from './fixtures/post-tweets-201.json' with { type: 'json' };
import entities from './fixtures/search-recent-entities.json' with { type: 'json' };
import quickstart from './fixtures/search-recent-quickstart.json' with { type: 'json' };
import { describeProblem, isDuplicateContent } from './x-errors.ts';
import {
  expandXText,
  normalizePage,
  normalizeTweet,
  pageIds,
  unescapeXText,
  usersById,
} from './x-normalize.ts';
import { xCreatedSchema, xPageSchema, xProblemSchema } from './x-schemas.ts';

/** X's own documented and recorded bodies (see fixtures/README.md) through the connector's parsing. */

const page = (body: unknown) => xPageSchema.parse(body);

describe('search recent bodies', () => {
  it('reads the quickstart sample: default user fields only', () => {
    const { posts, rejected } = normalizePage(page(quickstart));
    expect(rejected).toEqual([]);
    expect(posts).toEqual([
      {
        platform: 'x',
        id: '1234567890123456789',
        url: 'https://x.com/pythondev/status/1234567890123456789',
        author: { id: '9876543210', handle: 'pythondev', displayName: '', followers: null, protected: false },
        text: 'Just started learning Python and loving it!',
        lang: null,
        createdAt: '2024-01-15T10:30:00.000Z',
        repostOf: null,
        inReplyTo: null,
        conversationId: null,
        hashtags: [],
        mentions: [],
      },
    ]);
  });

  it('reads the data-dictionary posts: links expanded, replies, author metrics, unknown fields ignored', () => {
    const parsed = page(entities);
    expect(parsed.meta).toEqual({
      newest_id: '1212092628029698048',
      oldest_id: '1212092627178287104',
      next_token: 'b26v89c19zqg8o3fobd8v73egzbdt3qao235oql',
      result_count: 2,
    });
    const { posts, rejected } = normalizePage(parsed);
    expect(rejected).toEqual([]);
    const [media, feedback] = posts;
    expect(media).toMatchObject({
      id: '1212092628029698048',
      url: 'https://x.com/TwitterDev/status/1212092628029698048',
      author: {
        id: '2244994945',
        handle: 'TwitterDev',
        displayName: 'Twitter Dev',
        followers: 507902,
        protected: false,
      },
      lang: 'en',
      inReplyTo: '1212092627178287104',
      repostOf: null,
      createdAt: '2019-12-31T19:26:16.000Z',
    });
    expect(media?.text).toMatch(
      /new year\. https:\/\/x\.com\/LovesNandos\/status\/1211797914437259264\/photo\/1$/,
    );
    expect(feedback?.text).toMatch(
      /Let us know ⬇️ https:\/\/twitterdevfeedback\.uservoice\.com\/forums\/921790-twitter-developer-labs$/,
    );
    expect(pageIds(parsed)).toEqual(['1212092628029698048', '1212092627178287104']);
  });

  it('rejects a post without author_id by name, and one whose author is missing from includes', () => {
    const [first, second] = entities.data;
    const users = usersById(page(entities));
    const noAuthorId = normalizeTweet({ ...first, author_id: undefined }, users);
    expect(noAuthorId).toEqual({
      ok: false,
      rejected: { id: '1212092628029698048', reason: expect.stringMatching(/^author_id: /) },
    });
    const unknownAuthor = normalizeTweet({ ...second, author_id: '1' }, users);
    expect(unknownAuthor).toEqual({
      ok: false,
      rejected: { id: '1212092627178287104', reason: 'author_id: no user 1 in includes.users' },
    });
    expect(normalizeTweet('not a post', users)).toMatchObject({ ok: false, rejected: { id: null } });
  });

  it('treats X’s no-language codes as unknown', () => {
    const users = usersById(page(quickstart));
    for (const lang of ['und', 'zxx', 'qme', 'qht', 'art']) {
      const result = normalizeTweet({ ...quickstart.data[0], lang }, users);
      expect(result.ok && result.post.lang).toBeNull();
    }
  });
});

describe('text', () => {
  it.each([
    ['Q&amp;A &lt;b&gt;', 'Q&A <b>'],
    ['&amp;lt;', '&lt;'],
    ['no entities', 'no entities'],
  ])('unescapes %s', (escaped, plain) => {
    expect(unescapeXText(escaped)).toBe(plain);
  });

  it('expands t.co links from entities and leaves unknown ones alone, escaping only outside links', () => {
    const text = 'a &amp; b https://t.co/abc c https://t.co/zzz';
    const urls = [{ url: 'https://t.co/abc', expanded_url: 'https://example.com/?x=1&amp;y=2' }];
    expect(expandXText(text, urls)).toBe('a & b https://example.com/?x=1&amp;y=2 c https://t.co/zzz');
  });
});

describe('error and create bodies', () => {
  it.each([
    ['the live 429', tooManyRequests, 'Too Many Requests: Too Many Requests'],
    ['the documented 429', rateLimitsDoc, 'Rate limit exceeded'],
    ['the 401', unauthorized, 'Unauthorized: Unauthorized'],
    [
      'the reply refusal',
      replyNotAllowed,
      expect.stringMatching(/^Forbidden: Reply to this conversation is not allowed/),
    ],
  ])('describes %s', (_name, body, description) => {
    expect(describeProblem(xProblemSchema.parse(body))).toEqual(description);
  });

  it('tells a duplicate-content 403 from a reply refusal', () => {
    expect(isDuplicateContent(xProblemSchema.parse(duplicate))).toBe(true);
    expect(isDuplicateContent(xProblemSchema.parse(replyNotAllowed))).toBe(false);
  });

  it('reads the 201 of POST /2/tweets', () => {
    expect(xCreatedSchema.parse(created).data).toEqual({ id: '1445880548472328192', text: 'Hello world!' });
  });
});
