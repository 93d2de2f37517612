import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWordCode } from '../normalize.ts';
import { type Post, postSchema } from '../post.ts';
import { type PreparedPost, preparePost } from '../prepare.ts';
import { parseQuery } from '../query/parse.ts';
import type { QueryNode } from '../query-ast.ts';
import { createMatcher, type MatchEntry } from './matcher.ts';

function post(text: string, extra: Partial<Omit<Post, 'author'>> & { handle?: string } = {}): Post {
  const { handle = 'someone', ...rest } = extra;
  return postSchema.parse({
    platform: 'x',
    id: '1',
    url: 'https://x.com/someone/status/1',
    author: { id: 'a1', handle },
    text,
    createdAt: '2026-11-24T00:00:00Z',
    ...rest,
  });
}

function matches(query: string, p: Post, options: Partial<MatchEntry> = {}): boolean {
  const matcher = createMatcher([{ key: 'w', ast: parseQuery(query), ...options }]);
  return matcher.match(preparePost(p)).includes('w');
}

describe('createMatcher — one watch', () => {
  it.each([
    ['booklog', 'Booklog is down', true],
    ['booklog', 'I was booklogging all night', false],
    ['booklog', 'ＢＯＯＫＬＯＧ、落ちてる？', true],
    ['booklog', 'booklogが落ちてる', true],
    ['ブクログ', 'きょうもぶくろぐで本を登録', true],
    ['ブクログ', 'ﾌﾞｸﾛｸﾞ重い', true],
    ['ぶくろぐ', 'ブク\u200bログ最高', true],
    ['ブクログ', 'ブログ書いた', false],
    ['ユーザー', 'ユーザｰ登録できない', true],
    ['ブクログ -落ちてる', 'ブクログ落ちてる', false],
    ['ブクログ -落ちてる', 'ブクログ最高', true],
    ['"booklog app"', 'the Booklog   App is great', true],
    ['"booklog app"', 'booklog is an app', false],
    ['#booklog', 'I love #Booklog', true],
    ['#booklog', 'I love booklog', false],
    ['#ブクログ', '読了 #ぶくろぐ', true],
    ['@booklog_support', 'hey @Booklog_Support help', true],
    ['@booklog_support', 'hey booklog_support', false],
    ['booklog', 'see https://booklog.jp/users/me', false],
    ['url:booklog.jp', 'see https://booklog.jp/users/me', true],
    ['url:booklog.jp', 'booklog.jp is nice', false],
    ['apple OR iphone ipad', 'apple', true],
    ['apple OR iphone ipad', 'iphone', false],
    ['apple OR iphone ipad', 'ipad and iphone', true],
    ['(apple OR iphone) ipad', 'apple', false],
    ['-(a OR b) booklog', 'booklog a', false],
    ['-(a OR b) booklog', 'booklog c', true],
    // A digit next to a letter is a word boundary (grade prefixes 小3 / 中1, years after a name)…
    ['Z会', '小3Z会の教材', true],
    ['Z会', '中1Z会', true],
    ['booklog', 'booklog2026', true],
    ['booklog', 'my2026booklog list', true],
    ['"2026年版"', 'booklog2026年版', true],
    // …but letters next to letters, digits next to digits, and underscores still join.
    ['booklog', 'mybooklog', false],
    ['booklog', 'booklog_bot', false],
    ['mp3', 'mp34 player', false],
    // Text written right after a URL is prose, not part of the URL.
    ['ブクログ', 'https://t.co/abc123ブクログ重すぎ', true],
    ['ブクログ', 'www.example.com/xブクログ', true],
    ['booklog', '(https://t.co/abc)booklog', true],
  ])('%s on "%s" → %s', (query, text, expected) => {
    expect(matches(query, post(text))).toBe(expected);
  });

  it.each([
    ['booklog lang:ja', { lang: 'ja' }, true],
    ['booklog lang:ja', { lang: 'en' }, false],
    ['booklog lang:ja', { lang: null }, false],
    ['booklog -from:booklog_jp', { handle: 'booklog_jp' }, false],
    ['booklog -from:booklog_jp', { handle: 'reader' }, true],
    ['booklog from:reader', { handle: 'reader@mastodon.example' }, true],
    ['booklog from:reader@other.example', { handle: 'reader@mastodon.example' }, false],
    ['booklog -is:repost', { repostOf: '9' }, false],
    ['booklog -is:repost', { repostOf: null }, true],
    ['booklog -is:repost', { text: 'RT @alice: booklog' }, false],
    ['booklog is:repost', { text: 'RT @alice: booklog' }, true],
    ['booklog is:reply', { inReplyTo: '8' }, true],
    ['booklog is:reply', { inReplyTo: null }, false],
    ['#booklog', { hashtags: ['Booklog'] }, true],
    ['@booklog', { mentions: ['booklog@mastodon.example'] }, true],
  ] as Array<[string, Parameters<typeof post>[1], boolean]>)('%s with %o → %s', (query, extra, expected) => {
    expect(matches(query, post('booklog', extra))).toBe(expected);
  });

  it('matches queries without any word (only url:) against every post', () => {
    const matcher = createMatcher([{ key: 'w', ast: parseQuery('url:example.com') }]);
    expect(matcher.unanchoredCount).toBe(1);
    expect(matcher.match(preparePost(post('look https://www.example.com/a')))).toEqual(['w']);
    expect(matcher.match(preparePost(post('look https://other.test/a')))).toEqual([]);
  });

  it('respects the platforms and languages of an entry', () => {
    expect(matches('booklog', post('booklog'), { platforms: ['mastodon'] })).toBe(false);
    expect(matches('booklog', post('booklog', { platform: 'mastodon' }), { platforms: ['mastodon'] })).toBe(
      true,
    );
    expect(matches('booklog', post('booklog', { lang: 'en' }), { languages: ['ja'] })).toBe(false);
    expect(matches('booklog', post('booklog', { lang: 'ja' }), { languages: ['ja'] })).toBe(true);
    expect(matches('booklog', post('booklog', { lang: null }), { languages: ['ja'] })).toBe(true);
  });
});

describe('createMatcher — many watches', () => {
  it('returns every matching key, in entry order, and only those', () => {
    const matcher = createMatcher([
      { key: 'a', ast: parseQuery('ブクログ') },
      { key: 'b', ast: parseQuery('booklog OR ブクログ') },
      { key: 'c', ast: parseQuery('ブクログ 落ちてる') },
      { key: 'd', ast: parseQuery('#unrelated') },
      { key: 'e', ast: parseQuery('ログ') },
    ]);
    expect(matcher.match(preparePost(post('ブクログ落ちてる？')))).toEqual(['a', 'b', 'c', 'e']);
    expect(matcher.match(preparePost(post('Booklog rocks')))).toEqual(['b']);
    expect(matcher.match(preparePost(post('nothing here')))).toEqual([]);
  });
});

// A reference evaluator that walks the AST directly: the matcher must agree with it everywhere.
function occurs(pattern: string, text: string): boolean {
  if (pattern.length === 0) return false;
  const startBounded = isWordCode(pattern.charCodeAt(0));
  const endBounded = isWordCode(pattern.charCodeAt(pattern.length - 1));
  for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
    const end = at + pattern.length;
    if (startBounded && at > 0 && isWordCode(text.charCodeAt(at - 1))) continue;
    if (endBounded && end < text.length && isWordCode(text.charCodeAt(end))) continue;
    return true;
  }
  return false;
}

function evaluate(node: QueryNode, p: PreparedPost): boolean {
  switch (node.type) {
    case 'term':
    case 'phrase':
      return occurs(node.normalized, p.prose);
    case 'hashtag':
      return p.hashtags.has(node.normalized);
    case 'mention':
      return p.mentions.has(node.normalized);
    case 'not':
      return !evaluate(node.child, p);
    case 'and':
      return node.children.every((c) => evaluate(c, p));
    case 'or':
      return node.children.some((c) => evaluate(c, p));
    default:
      throw new Error(`not generated: ${node.type}`);
  }
}

describe('createMatcher — agrees with a direct evaluation of the query', () => {
  const words = [
    'ぶくろぐ',
    'ブクログ',
    'booklog',
    'log',
    'ろぐ',
    '落ちてる',
    'app',
    '"booklog app"',
    '#ぶくろぐ',
  ];
  const textWords = [
    'ブクログ',
    'booklog',
    'booklogging',
    'log',
    'app',
    '落ちてる',
    '#ブクログ',
    'ﾛｸﾞ',
    ' ',
    'が',
    '!',
  ];
  const query: fc.Arbitrary<string> = fc.letrec<{ q: string }>((tie) => ({
    q: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(...words),
      fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} ${b})`),
      fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} OR ${b})`),
      fc
        .tuple(fc.constantFrom(...words), tie('q'))
        .map(([a, b]) => `${a} -${b.startsWith('-') ? `(${b})` : b}`),
    ),
  })).q;

  it('for random queries and posts, alone and all together', () => {
    fc.assert(
      fc.property(
        fc.array(query, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.constantFrom(...textWords), { maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        (queries, texts) => {
          const asts = queries.map((q) => parseQuery(q));
          const matcher = createMatcher(asts.map((ast, i) => ({ key: String(i), ast })));
          for (const parts of texts) {
            const prepared = preparePost(post(parts.join('')));
            const expected = asts.flatMap((ast, i) => (evaluate(ast, prepared) ? [String(i)] : []));
            expect(matcher.match(prepared)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
