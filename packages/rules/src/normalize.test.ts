import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinsWord, normalizeTag, normalizeText, splitUrls } from './normalize.ts';

describe('normalizeText', () => {
  it.each([
    ['ブクログ', 'ぶくろぐ'],
    ['ぶくろぐ', 'ぶくろぐ'],
    ['ﾌﾞｸﾛｸﾞ', 'ぶくろぐ'],
    ['ＢＯＯＫＬＯＧ', 'booklog'],
    ['BookLog', 'booklog'],
    ['ブク\u200bログ', 'ぶくろぐ'],
    ['ブク\u2060ロ\ufeffグ\u00ad', 'ぶくろぐ'],
    ['ユーザー', 'ゆーざー'],
    ['ユーザｰ', 'ゆーざー'],
    ['ユーザ〜', 'ゆーざー'],
    ['ユーザ−', 'ゆーざー'],
    ['ユーザーーー！', 'ゆーざー!'],
    ['wi‐fi', 'wi-fi'],
    ['a — b', 'a - b'],
    ['  複数の\t\n空白　 ', '複数の 空白'],
    ['ＡＰＰ　ストア', 'app すとあ'],
    ['㈱ブクログ', '(株)ぶくろぐ'],
    ['ヴァ', 'ゔぁ'],
    ['Don’t', "don't"],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('is idempotent and never longer than NFKC on any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        const once = normalizeText(s);
        expect(normalizeText(once)).toBe(once);
        expect(once.length).toBeLessThanOrEqual(s.normalize('NFKC').toLowerCase().length);
      }),
      { numRuns: 500 },
    );
  });

  it('handles text longer than its internal buffer', () => {
    const long = 'ブクログ '.repeat(5000);
    expect(normalizeText(long)).toBe('ぶくろぐ '.repeat(5000).trimEnd());
  });
});

describe('splitUrls', () => {
  it('takes URLs out of the prose and keeps them, lower-cased', () => {
    expect(splitUrls('見て https://Booklog.jp/Users/me、よろしく')).toEqual({
      prose: '見て  、よろしく',
      urls: ['https://booklog.jp/users/me'],
    });
  });
  it('keeps Japanese written right after a URL in the prose', () => {
    expect(splitUrls('https://t.co/abc123ブクログ重すぎ').prose).toBe(' ブクログ重すぎ');
  });
  it.each([
    ['no links here', []],
    ['see www.example.com/help.', ['www.example.com/help']],
    ['two: http://a.test/x and https://b.test/y!', ['http://a.test/x', 'https://b.test/y']],
    ['https://t.co/abc123ブクログ重すぎ', ['https://t.co/abc123']],
    [
      '（https://t.co/abc）と「https://x.test/a?b=1&c=%E3%81%82」',
      ['https://t.co/abc', 'https://x.test/a?b=1&c=%e3%81%82'],
    ],
    ['<https://a.test/p>', ['https://a.test/p']],
  ])('%s', (text, urls) => {
    expect(splitUrls(text).urls).toEqual(urls);
  });
});

describe('normalizeTag', () => {
  it.each([
    ['#ブクログ', 'ぶくろぐ'],
    ['＃ＢＯＯＫＬＯＧ', 'booklog'],
    ['@Support', 'support'],
  ])('%s → %s', (tag, expected) => {
    expect(normalizeTag(tag)).toBe(expected);
  });
});

describe('joinsWord', () => {
  const code = (s: string) => s.charCodeAt(0);
  it.each([
    ['a', 'b', true],
    ['1', '2', true],
    ['a', '_', true],
    ['_', '1', true],
    ['3', 'z', false],
    ['g', '2', false],
    ['a', ' ', false],
    ['会', 'a', false],
  ])('%s|%s → %s', (before, after, expected) => {
    expect(joinsWord(code(before), code(after))).toBe(expected);
  });
});
