import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, sortTime } from './bluesky-cursor.ts';
import { expandLinks, normalizePost } from './bluesky-normalize.ts';
import { rkeyFor, TID_PATTERN } from './bluesky-rkey.ts';
import { decodeStreamCursor, encodeStreamCursor, isHandedOn } from './bluesky-stream.ts';

const enc = new TextEncoder();
/** A facet over the first occurrence of `part` in `text`, in UTF-8 byte offsets as Bluesky counts them. */
function facetOver(text: string, part: string, feature: { $type: string; [k: string]: string }) {
  const at = text.indexOf(part);
  const byteStart = enc.encode(text.slice(0, at)).length;
  return { index: { byteStart, byteEnd: byteStart + enc.encode(part).length }, features: [feature] };
}

describe('record keys of replies', () => {
  it('are TIDs, the same for the same idempotency key and different for another', () => {
    const a = rkeyFor('match-1');
    expect(a).toMatch(TID_PATTERN);
    expect(rkeyFor('match-1')).toBe(a);
    expect(rkeyFor('match-2')).not.toBe(a);
    for (let i = 0; i < 200; i += 1) expect(rkeyFor(`k${i}`)).toMatch(TID_PATTERN);
    expect(() => rkeyFor('')).toThrow(/idempotency key/u);
  });
});

describe('normalizePost', () => {
  const author = {
    did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
    handle: 'Hanako.bsky.social',
    displayName: '山田 花子',
  };
  const uri = 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l';

  it('reads facets by UTF-8 byte offsets after multi-byte text, mentions as handles, tags, langs', () => {
    const text = '📚ブクログ 落ちてる？ @booklog.bsky.social #不具合 booklog.jp/help/lo...';
    const post = normalizePost({
      uri,
      author,
      indexedAt: '2026-11-24T09:00:01.000Z',
      record: {
        $type: 'app.bsky.feed.post',
        text,
        langs: ['ja'],
        createdAt: '2026-11-24T09:00:00.000Z',
        facets: [
          facetOver(text, '@booklog.bsky.social', {
            $type: 'app.bsky.richtext.facet#mention',
            did: 'did:plc:abc',
          }),
          facetOver(text, '#不具合', { $type: 'app.bsky.richtext.facet#tag', tag: '不具合' }),
          facetOver(text, 'booklog.jp/help/lo...', {
            $type: 'app.bsky.richtext.facet#link',
            uri: 'https://booklog.jp/help/login-trouble',
          }),
        ],
      },
    });
    expect(post).toMatchObject({
      platform: 'bluesky',
      id: uri,
      url: 'https://bsky.app/profile/Hanako.bsky.social/post/3l6oveex3ii2l',
      author: { id: author.did, handle: 'hanako.bsky.social', displayName: '山田 花子', followers: null },
      text: '📚ブクログ 落ちてる？ @booklog.bsky.social #不具合 https://booklog.jp/help/login-trouble',
      lang: 'ja',
      hashtags: ['不具合'],
      mentions: ['booklog.bsky.social'],
      inReplyTo: null,
      conversationId: uri,
    });
  });

  it('keeps a link text that is not a shortening of its target (a disguised link stays visible as written)', () => {
    const text = 'see example.com here';
    const facets = [
      facetOver(text, 'example.com', { $type: 'app.bsky.richtext.facet#link', uri: 'https://evil.test/' }),
    ];
    expect(expandLinks(text, facets)).toBe('see example.com here');
    expect(
      expandLinks(text, [{ index: { byteStart: 4, byteEnd: 999 }, features: facets[0]?.features ?? [] }]),
    ).toBe(text);
  });

  it('skips what is not a post, naming the problem', () => {
    expect(normalizePost({ uri, author, record: { text: 1 } })).toMatchObject({ id: uri, reason: /text/u });
    expect(
      normalizePost({
        uri,
        author: { ...author, handle: 'handle.invalid.' },
        record: { text: 'x', createdAt: '2026-11-24T09:00:00Z' },
      }),
    ).toMatchObject({ reason: /not a Bluesky handle/u });
    expect(normalizePost({ uri, author, record: { text: 'x', createdAt: 'yesterday' } })).toMatchObject({
      reason: /createdAt/u,
    });
    // An unreadable createdAt with an indexedAt to fall back on is kept.
    expect(
      normalizePost({
        uri,
        author,
        indexedAt: '2026-11-24T09:00:01.000Z',
        record: { text: 'x', createdAt: 'yesterday' },
      }),
    ).toMatchObject({
      createdAt: '2026-11-24T09:00:01.000Z',
    });
  });
});

describe('cursors', () => {
  it('search cursors round-trip and refuse what is not one', () => {
    const c = {
      since: '2026-11-24T09:00:00.000Z',
      newest: '2026-11-24T09:00:00.000Z',
      gap: null,
      seen: ['2026-11-24T09:00:00.000Z at://did:plc:a/app.bsky.feed.post/3l6oveex3ii2l'],
    };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(null)).toEqual({ since: null, newest: null, gap: null, seen: [] });
    expect(() => decodeCursor('nope')).toThrow(/not a Bluesky cursor/u);
    expect(() => decodeCursor('{"v":1,"since":"x","newest":null,"gap":null,"seen":[]}')).toThrow(/since/u);
  });

  it('sort time is the earlier of createdAt and indexedAt', () => {
    expect(sortTime('2020-01-01T00:00:00Z', '2026-11-24T09:00:00Z')).toBe('2020-01-01T00:00:00.000Z');
    expect(sortTime('2030-01-01T00:00:00Z', '2026-11-24T09:00:00Z')).toBe('2026-11-24T09:00:00.000Z');
  });

  it('stream cursors name a commit and an operation in it', () => {
    expect(decodeStreamCursor('42:1')).toEqual({ seq: 42, op: 1 });
    expect(encodeStreamCursor({ seq: 42, op: 1 })).toBe('42:1');
    expect(decodeStreamCursor(null)).toBeNull();
    expect(() => decodeStreamCursor('42:x')).toThrow(/not a Bluesky stream cursor/u);
    const last = { seq: 42, op: 1 };
    expect(isHandedOn({ seq: 42, op: 1 }, last)).toBe(true);
    expect(isHandedOn({ seq: 41, op: 5 }, last)).toBe(true);
    expect(isHandedOn({ seq: 42, op: 2 }, last)).toBe(false);
    expect(isHandedOn({ seq: 43, op: 0 }, last)).toBe(false);
    // A bare seq: the whole commit was handed on.
    expect(isHandedOn({ seq: 42, op: 9 }, decodeStreamCursor('42'))).toBe(true);
  });
});
