import { describe, expect, it } from 'vitest';
import type { QueryNode } from '../query-ast.ts';
import { QUERY_ERROR_CODES, type QueryErrorCode, QuerySyntaxError } from './errors.ts';
import { formatQuery, MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery, tryParseQuery } from './parse.ts';

// Expectations are written without spans; `strip` removes them from parsed ASTs.
type Shape =
  | { type: 'term' | 'phrase' | 'hashtag' | 'mention'; raw: string; normalized: string }
  | { type: 'lang' | 'from' | 'url' | 'is'; value: string }
  | { type: 'not'; child: Shape }
  | { type: 'and' | 'or'; children: Shape[] };

function strip(node: QueryNode): Shape {
  switch (node.type) {
    case 'term':
    case 'phrase':
    case 'hashtag':
    case 'mention':
      return { type: node.type, raw: node.raw, normalized: node.normalized };
    case 'lang':
    case 'from':
    case 'url':
    case 'is':
      return { type: node.type, value: node.value };
    case 'not':
      return { type: 'not', child: strip(node.child) };
    case 'and':
    case 'or':
      return { type: node.type, children: node.children.map(strip) };
  }
}

const term = (raw: string, normalized = raw): Shape => ({ type: 'term', raw, normalized });
const phrase = (raw: string, normalized = raw): Shape => ({ type: 'phrase', raw, normalized });
const hashtag = (raw: string, normalized = raw): Shape => ({ type: 'hashtag', raw, normalized });
const mention = (raw: string, normalized = raw): Shape => ({ type: 'mention', raw, normalized });
const lang = (value: string): Shape => ({ type: 'lang', value });
const from = (value: string): Shape => ({ type: 'from', value });
const url = (value: string): Shape => ({ type: 'url', value });
const is = (value: 'reply' | 'repost'): Shape => ({ type: 'is', value });
const not = (child: Shape): Shape => ({ type: 'not', child });
const and = (...children: Shape[]): Shape => ({ type: 'and', children });
const or = (...children: Shape[]): Shape => ({ type: 'or', children });

const shape = (query: string): Shape => strip(parseQuery(query));

function errorOf(query: string): QuerySyntaxError {
  const result = tryParseQuery(query);
  if (result.ok) throw new Error(`expected ${JSON.stringify(query)} to fail, got ${formatQuery(result.ast)}`);
  return result.error;
}

describe('parseQuery — constructs', () => {
  it.each<[string, Shape]>([
    ['booklog', term('booklog')],
    ['Booklog', term('Booklog', 'booklog')],
    ['booklog down', and(term('booklog'), term('down'))],
    ['"booklog app"', phrase('booklog app')],
    ['"  Booklog   App "', phrase('  Booklog   App ', 'booklog app')],
    ['"a (b) OR -c #d"', phrase('a (b) OR -c #d', 'a (b) or -c #d')],
    ['a OR b', or(term('a'), term('b'))],
    ['a or b', and(term('a'), term('or'), term('b'))],
    ['a Or b', and(term('a'), term('Or', 'or'), term('b'))],
    ['a AND b', and(term('a'), term('b'))],
    ['a and b', and(term('a'), term('and'), term('b'))],
    ['-foo bar', and(not(term('foo')), term('bar'))],
    ['bar -"a b"', and(term('bar'), not(phrase('a b')))],
    ['bar -(a OR b)', and(term('bar'), not(or(term('a'), term('b'))))],
    ['bar -from:x', and(term('bar'), not(from('x')))],
    ['bar -is:repost', and(term('bar'), not(is('repost')))],
    ['bar -#tag -@name', and(term('bar'), not(hashtag('tag')), not(mention('name')))],
    ['bar -(-a)', and(term('bar'), not(not(term('a'))))],
    ['wi-fi e-mail', and(term('wi-fi'), term('e-mail'))],
    ['a- b-', and(term('a-'), term('b-'))],
    ['#booklog', hashtag('booklog')],
    ['#Booklog_JP', hashtag('Booklog_JP', 'booklog_jp')],
    ['#ブクログ', hashtag('ブクログ', 'ぶくろぐ')],
    ['@booklog_jp', mention('booklog_jp')],
    ['@Booklog@Mastodon.Example', mention('Booklog@Mastodon.Example', 'booklog@mastodon.example')],
    ['C# x@y', and(term('C#', 'c#'), term('x@y'))],
    ['x lang:ja', and(term('x'), lang('ja'))],
    ['x lang:JA', and(term('x'), lang('ja'))],
    ['x lang:fil', and(term('x'), lang('fil'))],
    ['x lang:ja\u200b', and(term('x'), lang('ja'))],
    ['from:\ufeffbooklog', from('booklog')],
    ['from:booklog_jp', from('booklog_jp')],
    ['from:@Booklog_JP', from('booklog_jp')],
    ['from:name@mstdn.jp', from('name@mstdn.jp')],
    ['from:@name@mstdn.jp', from('name@mstdn.jp')],
    ['FROM:x', from('x')],
    ['x is:reply', and(term('x'), is('reply'))],
    ['x is:repost', and(term('x'), is('repost'))],
    ['x is:retweet', and(term('x'), is('repost'))],
    ['x is:Reply', and(term('x'), is('reply'))],
    ['url:example.com', url('example.com')],
    ['url:Example.com/Help', url('example.com/help')],
    ['url:"example.com/help"', url('example.com/help')],
    ['url:https://example.com/a?b=c', url('https://example.com/a?b=c')],
    ['url:"example.com/wiki/a_(b)"', url('example.com/wiki/a_(b)')],
    ['12:30', term('12:30')],
    ['note:', term('note:')],
    [':foo', term(':foo')],
    ['a1:b', term('a1:b')],
    ['www', term('www')],
    ["don't", term("don't")],
    ['a"b c"d', and(term('a'), phrase('b c'), term('d'))],
    ['"a"-b', and(phrase('a'), not(term('b')))],
    ['(a)(b)', and(term('a'), term('b'))],
    ['(a)OR(b)', or(term('a'), term('b'))],
    ['((a))', term('a')],
    ['x (-a)', and(term('x'), not(term('a')))],
    ['  booklog  ', term('booklog')],
    ['a\tb\nc', and(term('a'), term('b'), term('c'))],
    ['\u200bbooklog', term('booklog')],
    ['book\u200blog', term('book\u200blog', 'booklog')],
    ['booklog \u200b', term('booklog')],
    ['\u200b-a b', and(not(term('a')), term('b'))],
  ])('%j', (query, expected) => {
    expect(shape(query)).toEqual(expected);
  });
});

describe('parseQuery — precedence and grouping', () => {
  it.each<[string, Shape]>([
    ['a OR b c', or(term('a'), and(term('b'), term('c')))],
    ['a b OR c', or(and(term('a'), term('b')), term('c'))],
    ['a b OR c d', or(and(term('a'), term('b')), and(term('c'), term('d')))],
    ['(a OR b) c', and(or(term('a'), term('b')), term('c'))],
    ['a OR b OR c', or(term('a'), term('b'), term('c'))],
    ['a OR (b OR c)', or(term('a'), term('b'), term('c'))],
    ['(a OR b) OR (c OR d)', or(term('a'), term('b'), term('c'), term('d'))],
    ['a (b c) d', and(term('a'), term('b'), term('c'), term('d'))],
    ['a (b (c d))', and(term('a'), term('b'), term('c'), term('d'))],
    ['a -b OR c', or(and(term('a'), not(term('b'))), term('c'))],
    ['x -(a b)', and(term('x'), not(and(term('a'), term('b'))))],
    ['a AND b OR c', or(and(term('a'), term('b')), term('c'))],
    ['a OR b AND c', or(term('a'), and(term('b'), term('c')))],
    ['(a OR b) (c OR d)', and(or(term('a'), term('b')), or(term('c'), term('d')))],
    ['x (a OR lang:ja)', and(term('x'), or(term('a'), lang('ja')))],
    ['(a OR -b) c', and(or(term('a'), not(term('b'))), term('c'))],
  ])('%j', (query, expected) => {
    expect(shape(query)).toEqual(expected);
  });
});

describe('parseQuery — Japanese and full-width input', () => {
  it.each<[string, Shape]>([
    ['ブクログ落ちてる', term('ブクログ落ちてる', 'ぶくろぐ落ちてる')],
    ['ﾌﾞｸﾛｸﾞ', term('ﾌﾞｸﾛｸﾞ', 'ぶくろぐ')],
    ['ＢＯＯＫＬＯＧ', term('ＢＯＯＫＬＯＧ', 'booklog')],
    ['ユーザー登録', term('ユーザー登録', 'ゆーざー登録')],
    [
      '(ブクログ OR booklog) -from:booklog_jp (落ちてる OR ログインできない)',
      and(
        or(term('ブクログ', 'ぶくろぐ'), term('booklog')),
        not(from('booklog_jp')),
        or(term('落ちてる'), term('ログインできない', 'ろぐいんできない')),
      ),
    ],
    ['ブクログ　落ちてる', and(term('ブクログ', 'ぶくろぐ'), term('落ちてる'))],
    [
      '（ブクログ　ＯＲ　booklog）　重い',
      and(or(term('ブクログ', 'ぶくろぐ'), term('booklog')), term('重い')),
    ],
    ['ブクログ ＡＮＤ 重い', and(term('ブクログ', 'ぶくろぐ'), term('重い'))],
    ['ブクログ　－重い', and(term('ブクログ', 'ぶくろぐ'), not(term('重い')))],
    ['ブクログ −重い', and(term('ブクログ', 'ぶくろぐ'), not(term('重い')))],
    ['ブクログー', term('ブクログー', 'ぶくろぐー')],
    ['＃ブクログ', hashtag('ブクログ', 'ぶくろぐ')],
    ['#ぶくろぐ・読書', hashtag('ぶくろぐ・読書')],
    ['＠ｂｏｏｋｌｏｇ＿ｊｐ', mention('ｂｏｏｋｌｏｇ＿ｊｐ', 'booklog_jp')],
    ['x ｌａｎｇ：ｊａ', and(term('x'), lang('ja'))],
    ['ｆｒｏｍ：＠Ｂｏｏｋｌｏｇ', from('booklog')],
    ['x -ｉｓ:ｒｅｐｏｓｔ', and(term('x'), not(is('repost')))],
    ['ＵＲＬ：ｂｏｏｋｌｏｇ．ｊｐ', url('booklog.jp')],
    ['＂ブクログ アプリ＂', phrase('ブクログ アプリ', 'ぶくろぐ あぷり')],
    ['“booklog app”', phrase('booklog app')],
    ['”booklog app“', phrase('booklog app')],
    ['„booklog app“', phrase('booklog app')],
    ['"booklog app”', phrase('booklog app')],
    ['〝ブクログ〟', phrase('ブクログ', 'ぶくろぐ')],
    ['「ログインできない」', phrase('ログインできない', 'ろぐいんできない')],
    ['｢ﾛｸﾞｲﾝ｣', phrase('ﾛｸﾞｲﾝ', 'ろぐいん')],
    ['『ブクログ』の話', and(phrase('ブクログ', 'ぶくろぐ'), term('の話'))],
    ['"「ブクログ」"', phrase('「ブクログ」', '「ぶくろぐ」')],
    ['「"quoted"」', phrase('"quoted"')],
    ['ブクログ「落ちた」', and(term('ブクログ', 'ぶくろぐ'), phrase('落ちた'))],
    ['お知らせ：メンテ', term('お知らせ：メンテ', 'お知らせ:めんて')],
    ['時間：12', term('時間：12', '時間:12')],
    ['ブクログ（公式）', and(term('ブクログ', 'ぶくろぐ'), term('公式'))],
    ['"（笑）"', phrase('（笑）', '(笑)')],
  ])('%j', (query, expected) => {
    expect(shape(query)).toEqual(expected);
  });
});

describe('parseQuery — errors', () => {
  const long = 'a'.repeat(MAX_QUERY_LENGTH + 5);
  const deep = `${'('.repeat(MAX_QUERY_DEPTH + 1)}a${')'.repeat(MAX_QUERY_DEPTH + 1)}`;
  it.each<[string, QueryErrorCode, number, number]>([
    ['', 'empty_query', 0, 0],
    ['   ', 'empty_query', 0, 3],
    ['\u3000\u200b', 'empty_query', 0, 2],
    [long, 'too_long', MAX_QUERY_LENGTH, 5],
    [deep, 'too_deep', MAX_QUERY_DEPTH, 1],
    ['"booklog app', 'unclosed_quote', 0, 1],
    ['x "a" "b', 'unclosed_quote', 6, 1],
    ['「ブクログ', 'unclosed_quote', 0, 1],
    ['「ブクログ"', 'unclosed_quote', 0, 1],
    ['url:"example.com', 'unclosed_quote', 4, 1],
    ['ブクログ」', 'unexpected_quote', 4, 1],
    ['』', 'unexpected_quote', 0, 1],
    ['-」', 'unexpected_quote', 1, 1],
    ['""', 'empty_phrase', 0, 2],
    ['x "  "', 'empty_phrase', 2, 4],
    ['「」', 'empty_phrase', 0, 2],
    ['(a', 'unclosed_paren', 0, 1],
    ['((a) b', 'unclosed_paren', 0, 1],
    ['a (b (c)', 'unclosed_paren', 2, 1],
    ['(', 'unclosed_paren', 0, 1],
    ['a)', 'unexpected_paren', 1, 1],
    [')a(', 'unexpected_paren', 0, 1],
    ['(a))', 'unexpected_paren', 3, 1],
    ['a）', 'unexpected_paren', 1, 1],
    ['()', 'empty_group', 0, 2],
    ['a ( )', 'empty_group', 2, 3],
    ['（）', 'empty_group', 0, 2],
    ['OR a', 'dangling_or', 0, 2],
    ['a OR', 'dangling_or', 2, 2],
    ['a OR OR b', 'dangling_or', 5, 2],
    ['(OR a)', 'dangling_or', 1, 2],
    ['(a OR) b', 'dangling_or', 3, 2],
    ['a ＯＲ', 'dangling_or', 2, 2],
    ['AND a', 'dangling_and', 0, 3],
    ['a AND', 'dangling_and', 2, 3],
    ['a AND AND b', 'dangling_and', 6, 3],
    ['a AND OR b', 'dangling_and', 2, 3],
    ['a OR AND b', 'dangling_and', 5, 3],
    ['-', 'dangling_negation', 0, 1],
    ['a -', 'dangling_negation', 2, 1],
    ['a - b', 'dangling_negation', 2, 1],
    ['a (-)', 'dangling_negation', 3, 1],
    ['a -OR b', 'dangling_negation', 2, 1],
    ['a －　b', 'dangling_negation', 2, 1],
    ['a -\u200bb', 'dangling_negation', 2, 1],
    ['--a', 'double_negation', 0, 2],
    ['x -－a', 'double_negation', 2, 2],
    ['NOT a', 'not_keyword', 0, 3],
    ['a NOT b', 'not_keyword', 2, 3],
    ['form:foo', 'unknown_operator', 0, 5],
    ['x langg:ja', 'unknown_operator', 2, 6],
    ['Re:ゼロ', 'unknown_operator', 0, 3],
    ['since:2024-01-01 x', 'unknown_operator', 0, 6],
    ['min_faves:10 x', 'unknown_operator', 0, 10],
    ['x foo:"bar"', 'unknown_operator', 2, 4],
    ['from:', 'bad_operand', 0, 5],
    ['lang: ja x', 'bad_operand', 0, 5],
    ['x is:', 'bad_operand', 2, 3],
    ['url:""', 'bad_operand', 4, 2],
    ['x lang:j', 'bad_operand', 7, 1],
    ['x lang:zh-tw', 'bad_operand', 7, 5],
    ['x lang:japanese', 'bad_operand', 7, 8],
    ['x is:quote', 'bad_operand', 5, 5],
    ['x is:replies', 'bad_operand', 5, 7],
    ['from:booklog!', 'bad_operand', 5, 8],
    ['from:@@x', 'bad_operand', 5, 3],
    ['url:"a b"', 'bad_operand', 4, 5],
    ['#', 'bad_tag', 0, 1],
    ['x ＃', 'bad_tag', 2, 1],
    ['#wi-fi', 'bad_tag', 0, 6],
    ['##tag', 'bad_tag', 0, 5],
    ['@ブクログ', 'bad_tag', 0, 5],
    ['@@name', 'bad_tag', 0, 6],
    ['https://example.com/help', 'url_term', 0, 24],
    ['x -http://example.com', 'url_term', 3, 18],
    ['www.example.com', 'url_term', 0, 15],
    ['見てhttps://example.com', 'url_term', 0, 21],
    ['"see https://example.com"', 'url_term', 0, 25],
    ['-a', 'no_positive_term', 0, 2],
    ['-a -b', 'no_positive_term', 0, 5],
    ['lang:ja', 'no_positive_term', 0, 7],
    ['lang:ja is:reply -is:repost', 'no_positive_term', 0, 27],
    ['-(a OR b)', 'no_positive_term', 0, 9],
    ['-(-a)', 'no_positive_term', 0, 5],
    ['a OR -b', 'no_positive_term', 5, 2],
    ['a OR (lang:ja -b)', 'no_positive_term', 5, 12],
    ['(a OR -b) lang:ja', 'no_positive_term', 6, 2],
  ])('%j → %s at %i', (query, code, offset, length) => {
    const error = errorOf(query);
    expect({ code: error.code, offset: error.offset, length: error.length }).toEqual({
      code,
      offset,
      length,
    });
  });

  it('covers every error code except the two that no string can reach', () => {
    const unreachable = new Set(['not_a_string', 'internal_error']);
    const tested = new Set([
      'empty_query',
      'too_long',
      'too_deep',
      'unclosed_quote',
      'unexpected_quote',
      'empty_phrase',
      'unclosed_paren',
      'unexpected_paren',
      'empty_group',
      'dangling_or',
      'dangling_and',
      'dangling_negation',
      'double_negation',
      'not_keyword',
      'unknown_operator',
      'bad_operand',
      'bad_tag',
      'url_term',
      'no_positive_term',
    ]);
    expect(QUERY_ERROR_CODES.filter((code) => !unreachable.has(code) && !tested.has(code))).toEqual([]);
  });

  it('accepts exactly the length and depth limits', () => {
    expect(shape('a'.repeat(MAX_QUERY_LENGTH))).toEqual(term('a'.repeat(MAX_QUERY_LENGTH)));
    const limit = `${'('.repeat(MAX_QUERY_DEPTH)}a${')'.repeat(MAX_QUERY_DEPTH)}`;
    expect(shape(limit)).toEqual(term('a'));
  });

  it('is a QuerySyntaxError, an Error, with a name', () => {
    const error = errorOf('(a');
    expect(error).toBeInstanceOf(QuerySyntaxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('QuerySyntaxError');
    expect(() => parseQuery('(a')).toThrow(QuerySyntaxError);
  });

  it('rejects non-strings with a QuerySyntaxError', () => {
    const error = errorOf(42 as unknown as string);
    expect(error.code).toBe('not_a_string');
  });

  it.each<[string, RegExp]>([
    ['form:foo', /Did you mean from:\?.*lang:, from:, is:, url:.*"form:foo"/u],
    ['x langg:ja', /Did you mean lang:\?/u],
    ['x lnag:ja', /Did you mean lang:\?/u],
    ['x urls:a', /Did you mean url:\?/u],
    ['Re:ゼロ', /^Unknown operator “Re:”\. Known operators.*"Re:ゼロ"/u],
    ['x filter:replies', /Use is:reply/u],
    ['x filter:retweets', /Use is:repost/u],
    ['x to:booklog', /use @name/u],
    ['x lang:zh-tw', /use lang:zh/u],
    ['x is:replies', /Did you mean is:reply\?/u],
    ['x is:retweets', /Did you mean is:repost\?/u],
    ['lang: ja x', /without a space/u],
    ['https://example.com/help', /url:example\.com\/help/u],
    ['x https://www.example.com/', /Use url:example\.com to/u],
    ['"a', /closing "/u],
    ['「a', /closing 」/u],
    ['a OR -b', /Each alternative of OR/u],
    ['-a', /nothing positive/u],
    ['a OR OR b', /Two ORs in a row/u],
    ['--a', /two minus signs/u],
  ])('%j explains itself: %s', (query, message) => {
    expect(errorOf(query).message).toMatch(message);
  });
});

describe('parseQuery — spans', () => {
  it('records UTF-16 offsets, including quotes, operators, minus signs and parentheses', () => {
    expect(parseQuery('-(a b) "c d" OR from:x')).toEqual({
      type: 'or',
      start: 0,
      end: 22,
      children: [
        {
          type: 'and',
          start: 0,
          end: 12,
          children: [
            {
              type: 'not',
              start: 0,
              end: 6,
              child: {
                type: 'and',
                start: 1,
                end: 6,
                children: [
                  { type: 'term', raw: 'a', normalized: 'a', start: 2, end: 3 },
                  { type: 'term', raw: 'b', normalized: 'b', start: 4, end: 5 },
                ],
              },
            },
            { type: 'phrase', raw: 'c d', normalized: 'c d', start: 7, end: 12 },
          ],
        },
        { type: 'from', value: 'x', start: 16, end: 22 },
      ],
    });
  });

  it('counts astral characters as two units', () => {
    expect(parseQuery('𠮷野家 #𠮷')).toMatchObject({
      type: 'and',
      children: [
        { type: 'term', start: 0, end: 4 },
        { type: 'hashtag', raw: '𠮷', start: 5, end: 8 },
      ],
    });
  });

  it('keeps the span of the only node inside parentheses', () => {
    expect(parseQuery('x (a)')).toMatchObject({ children: [{ start: 0 }, { start: 3, end: 4 }] });
  });
});

describe('formatQuery', () => {
  it.each<[string, string]>([
    ['booklog', 'booklog'],
    ['a   b', 'a b'],
    ['a OR b c', 'a OR b c'],
    ['(a b) OR (c d)', 'a b OR c d'],
    ['((a OR b))', 'a OR b'],
    ['(a OR b) c', '(a OR b) c'],
    ['a AND b', 'a b'],
    ['-(a b) c', '-(a b) c'],
    ['c -(-a)', 'c -(-a)'],
    ['“booklog app”', '"booklog app"'],
    ['「say "hi"」', '「say "hi"」'],
    ['"「a」" 『x」』', '"「a」" "x」"'],
    ['『x」"』', '『x」"』'],
    ['＃ブクログ ＠booklog', '#ブクログ @booklog'],
    ['FROM:@Booklog_JP ｌａｎｇ：ＪＡ', 'from:booklog_jp lang:ja'],
    ['x is:retweet', 'x is:repost'],
    ['url:"example.com/wiki/a_(b)"', 'url:"example.com/wiki/a_(b)"'],
    ['url:「example.com/"q"」', 'url:「example.com/"q"」'],
    ['（ブクログ　ＯＲ　booklog）　－from：booklog_jp', '(ブクログ OR booklog) -from:booklog_jp'],
  ])('%j → %j', (query, formatted) => {
    const ast = parseQuery(query);
    expect(formatQuery(ast)).toBe(formatted);
    expect(strip(parseQuery(formatQuery(ast)))).toEqual(strip(ast));
  });
});

describe('tryParseQuery', () => {
  it('returns the AST or the error instead of throwing', () => {
    const good = tryParseQuery('a OR b');
    expect(good.ok && strip(good.ast)).toEqual(or(term('a'), term('b')));
    const bad = tryParseQuery('a OR');
    expect(!bad.ok && bad.error.code).toBe('dangling_or');
  });
});
