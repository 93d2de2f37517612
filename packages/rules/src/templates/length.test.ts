import { describe, expect, it } from 'vitest';
import type { Platform } from '../post.ts';
import {
  countMastodonLength,
  MASTODON_DEFAULT_MAX_CHARACTERS,
  MASTODON_URL_LENGTH,
  measureReply,
  X_MAX_WEIGHTED_LENGTH,
  X_URL_LENGTH,
} from './length.ts';
import { MENTION_BREAKER } from './render.ts';

const longUrl = `https://example.com/${'a'.repeat(200)}?q=${'b'.repeat(50)}`;

describe('measureReply on X', () => {
  it.each([
    ['あ'.repeat(140), 280, true],
    ['あ'.repeat(141), 282, false],
    ['a'.repeat(280), 280, true],
    ['a'.repeat(281), 281, false],
    [longUrl, X_URL_LENGTH, true],
    [`詳しくは ${longUrl} へ`, 4 * 2 + 1 + 23 + 1 + 2, true],
    ['😀', 2, true],
    ['👨‍👩‍👧', 2, true],
    ['', 0, false],
    ['   ', 3, false],
    [`@${MENTION_BREAKER}everyone`, 11, true],
  ])('%j → %i', (text, length, ok) => {
    expect(measureReply(text, 'x')).toEqual({
      length,
      limit: X_MAX_WEIGHTED_LENGTH,
      remaining: X_MAX_WEIGHTED_LENGTH - length,
      ok,
    });
  });

  it('ignores maxCharacters (X has one limit)', () => {
    expect(measureReply('a'.repeat(300), 'x', { maxCharacters: 1000 }).ok).toBe(false);
  });
});

describe('measureReply on Mastodon', () => {
  it.each([
    ['あ'.repeat(500), 500, true],
    ['あ'.repeat(501), 501, false],
    [longUrl, MASTODON_URL_LENGTH, true],
    [`see ${longUrl} and ${longUrl}`, 4 + 23 + 5 + 23, true],
    // Without a protocol Mastodon does not give the URL concession.
    ['example.com/abc', 15, true],
    // Grapheme clusters: a family, a flag, a skin-toned thumb, e + combining accent are one each.
    ['👨‍👩‍👧', 1, true],
    ['🇯🇵🇯🇵', 2, true],
    ['👍🏽', 1, true],
    ['e\u0301', 1, true],
    ['が', 1, true],
    ['@alice@mastodon.social ありがとう', '@alice ありがとう'.length, true],
    ['@alice@mastodon.social@', 23, true],
    ['mail me at bob@example.com', 26, true],
    [`${longUrl}/@alice@other.example`, 23, true],
    ['', 0, false],
    ['  \n ', 0, false],
  ])('%j → %i', (text, length, ok) => {
    expect(measureReply(text, 'mastodon')).toEqual({
      length,
      limit: MASTODON_DEFAULT_MAX_CHARACTERS,
      remaining: MASTODON_DEFAULT_MAX_CHARACTERS - length,
      ok,
    });
  });

  it.each([
    [undefined, 'あ'.repeat(600), 500, false],
    [1000, 'あ'.repeat(600), 1000, true],
    [1000, 'あ'.repeat(1001), 1000, false],
    [11, 'hello world', 11, true],
  ])('limit %s', (maxCharacters, text, limit, ok) => {
    const measured = measureReply(text, 'mastodon', { maxCharacters });
    expect(measured.limit).toBe(limit);
    expect(measured.ok).toBe(ok);
    expect(measured.remaining).toBe(limit - measured.length);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxCharacters %s', (maxCharacters) => {
    expect(() => measureReply('hi', 'mastodon', { maxCharacters })).toThrow(RangeError);
  });

  it('counts a URL as 23 on both platforms whatever its length', () => {
    for (const platform of ['x', 'mastodon'] as Platform[]) {
      expect(measureReply(longUrl, platform).length).toBe(23);
      expect(measureReply('https://a.co', platform).length).toBe(23);
    }
    expect(countMastodonLength(`${longUrl} ${longUrl}`)).toBe(47);
  });
});

describe('measureReply on Bluesky', () => {
  it('counts grapheme clusters, URLs at their full length, limit 300', () => {
    expect(measureReply('こんにちは', 'bluesky')).toEqual({
      length: 5,
      limit: 300,
      remaining: 295,
      ok: true,
    });
    // A family emoji and a flag are one grapheme each (X weighs them 2, UTF-16 has 11 and 4 units).
    expect(measureReply('👨‍👩‍👧🇯🇵', 'bluesky').length).toBe(2);
    const url = 'https://example.com/a/very/long/path/that/is/not/shortened';
    expect(measureReply(url, 'bluesky').length).toBe(url.length);
    expect(measureReply('あ'.repeat(300), 'bluesky').ok).toBe(true);
    expect(measureReply('あ'.repeat(301), 'bluesky')).toMatchObject({
      length: 301,
      remaining: -1,
      ok: false,
    });
    expect(measureReply('   ', 'bluesky').ok).toBe(false);
  });
});
