import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTag, normalizeText, splitUrls } from '../normalize.ts';
import type { QueryNode } from '../query-ast.ts';
import { QUERY_ERROR_CODES, QuerySyntaxError } from './errors.ts';
import { formatQuery, MAX_QUERY_LENGTH, parseQuery, tryParseQuery } from './parse.ts';

/** The AST without spans: what "structurally equal" compares. */
function strip(node: QueryNode): unknown {
  return JSON.parse(
    JSON.stringify(node, (key, value) => (key === 'start' || key === 'end' ? undefined : value)),
  );
}

/** Every invariant a parsed AST must satisfy, checked against the query it came from. */
function checkAst(node: QueryNode, query: string): void {
  expect(node.start).toBeGreaterThanOrEqual(0);
  expect(node.end).toBeGreaterThan(node.start);
  expect(node.end).toBeLessThanOrEqual(query.length);
  switch (node.type) {
    case 'term':
    case 'phrase':
      expect(node.normalized).toBe(normalizeText(node.raw));
      expect(node.normalized).not.toBe('');
      break;
    case 'hashtag':
    case 'mention':
      expect(node.normalized).toBe(normalizeTag(node.raw));
      expect(node.normalized).not.toBe('');
      break;
    case 'lang':
    case 'from':
    case 'url':
      expect(node.value).toBe(node.value.toLowerCase());
      expect(node.value).not.toBe('');
      break;
    case 'is':
      expect(['reply', 'repost']).toContain(node.value);
      break;
    case 'not':
      checkAst(node.child, query);
      break;
    case 'and':
    case 'or':
      expect(node.children.length).toBeGreaterThanOrEqual(2);
      for (const child of node.children) {
        expect(child.type).not.toBe(node.type);
        checkAst(child, query);
      }
      break;
  }
}

/** parseQuery's contract for any input: an AST that survives a round trip, or a well-formed QuerySyntaxError. */
function checkContract(query: string): void {
  let ast: QueryNode;
  try {
    ast = parseQuery(query);
  } catch (error) {
    expect(error).toBeInstanceOf(QuerySyntaxError);
    const e = error as QuerySyntaxError;
    expect(QUERY_ERROR_CODES).toContain(e.code);
    expect(e.code).not.toBe('internal_error');
    expect(e.message.length).toBeGreaterThan(10);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(query.length);
    expect(e.length).toBeGreaterThanOrEqual(0);
    expect(e.offset + e.length).toBeLessThanOrEqual(query.length);
    return;
  }
  checkAst(ast, query);
  const printed = formatQuery(ast);
  // Tokens written without a space between them ("a"b) gain one, so a query at the limit may print longer.
  if (printed.length > MAX_QUERY_LENGTH) return;
  expect(strip(parseQuery(printed))).toEqual(strip(ast));
  expect(formatQuery(parseQuery(printed))).toBe(printed);
}

// Pieces that exercise the syntax: operators, quotes and brackets of every kind, Japanese, invisible
// characters, look-alikes, lone surrogates.
const PIECES = [
  ...'()"-:#@ \u3000（）＂－：＃＠“”„「」『』｢｣〝〟−ー\u200b\u00ad\ufeff\t\n',
  'OR',
  'ＯＲ',
  'AND',
  'NOT',
  'or',
  ' OR ',
  'lang:',
  'from:',
  'is:',
  'url:',
  'ｆｒｏｍ：',
  'ja',
  'reply',
  'repost',
  'retweet',
  'zh-tw',
  'form:',
  'https://',
  'www.',
  'example.com',
  'ブクログ',
  'ﾌﾞｸﾛｸﾞ',
  '落ちてる',
  'booklog',
  'ＢＯＯＫＬＯＧ',
  'wi-fi',
  'a',
  'b',
  '𠮷',
  '\ud800',
  '\udfff',
];
const syntaxHeavy = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join(''));

describe('parseQuery — any input', () => {
  it.each([
    ['grapheme strings', fc.string({ unit: 'grapheme', maxLength: 60 })],
    ['code-point strings', fc.string({ unit: 'binary', maxLength: 60 })],
    ['ASCII strings', fc.string({ unit: 'binary-ascii', maxLength: 60 })],
    [
      'UTF-16 strings (lone surrogates)',
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
    ],
    ['syntax-heavy strings', syntaxHeavy],
  ])('returns an AST or throws a QuerySyntaxError within the input, for %s', (_name, strings) => {
    fc.assert(fc.property(strings, checkContract), { numRuns: 1500 });
  });
});

describe('parseQuery — bounded time', () => {
  const TIME_LIMIT_MS = 100;
  const timed = (query: string): number => {
    const start = performance.now();
    tryParseQuery(query);
    return performance.now() - start;
  };

  it.each([
    ['2000 "("', '('.repeat(2000)],
    ['2000 ")"', ')'.repeat(2000)],
    ['32 "(" then 1968 "("', `${'('.repeat(32)}${'('.repeat(1968)}`],
    ['1999 quotes', '"'.repeat(1999)],
    ['2000 quotes', '"'.repeat(2000)],
    ['an unclosed quote then 1999 letters', `"${'a'.repeat(1999)}`],
    ['2000 「', '「'.repeat(2000)],
    ['2000 minus signs', '-'.repeat(2000)],
    ['2000 #', '#'.repeat(2000)],
    ['2000 zero-width spaces', '\u200b'.repeat(2000)],
    ['2000 ideographic spaces', '\u3000'.repeat(2000)],
    ['a 2000-letter term', 'ブ'.repeat(2000)],
    ['a 1998-letter operator name', `${'a'.repeat(1998)}:b`],
    ['1000 colons', 'x:'.repeat(1000)],
    ['400 ORs', `${'a OR '.repeat(399)}a`],
    ['1000 terms', 'a '.repeat(1000)],
    ['666 negations', '-a '.repeat(666)],
    ['500 phrases', '"a" '.repeat(500)],
    ['32 nested ORs', `${'(a OR '.repeat(32)}a${')'.repeat(32)}`],
    ['nested negated groups', `x ${'-('.repeat(32)}a${')'.repeat(32)}`],
    ['a wide flat group', `(${'a OR b '.repeat(280)})`],
    ['ten million characters', 'a'.repeat(10_000_000)],
  ])('%s', (_name, query) => {
    checkContract(query.slice(0, 2500));
    expect(timed(query)).toBeLessThan(TIME_LIMIT_MS);
  });

  it('for long random syntax-heavy input', () => {
    const long = fc
      .array(fc.constantFrom(...PIECES), { minLength: 400, maxLength: 1200 })
      .map((parts) => parts.join('').slice(0, MAX_QUERY_LENGTH));
    fc.assert(
      fc.property(long, (query) => {
        expect(timed(query)).toBeLessThan(TIME_LIMIT_MS);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip: ASTs in the parser's normal form (flattened, groups of two or more, something positive
// in every OR alternative) print to a query that parses back to the same AST.

const at = { start: 0, end: 0 };

/** A generated string that parses to exactly one node of `type`, as that node. */
function atomFrom(text: fc.Arbitrary<string>, type: QueryNode['type']): fc.Arbitrary<QueryNode> {
  return text
    .map((query) => tryParseQuery(query))
    .filter((result) => result.ok && result.ast.type === type)
    .map((result) => (result as { ast: QueryNode }).ast);
}

const TERM_CHARS = [...'abZé1_.-:#@!?ブクログー落ちてるｂＯﾌﾞ𠮷\u200b\u00ad'];
const termArb = fc
  .string({ unit: fc.constantFrom(...TERM_CHARS), minLength: 1, maxLength: 8 })
  .map((raw) => [raw, tryParseQuery(raw)] as const)
  .filter(([raw, result]) => result.ok && result.ast.type === 'term' && result.ast.raw === raw)
  .map(([, result]) => (result as { ast: QueryNode }).ast);

const PHRASE_CHARS = [...TERM_CHARS, ...' \u3000()（）"＂“」』「『OR-#']; // quotes of every family
const phraseArb: fc.Arbitrary<QueryNode> = fc
  .string({ unit: fc.constantFrom(...PHRASE_CHARS), minLength: 1, maxLength: 10 })
  .filter((raw) => {
    const hasDouble = /["＂“]/u.test(raw);
    const representable = !(hasDouble && raw.includes('」') && raw.includes('』'));
    return representable && normalizeText(raw) !== '' && splitUrls(raw).urls.length === 0;
  })
  .map((raw) => ({ type: 'phrase', raw, normalized: normalizeText(raw), ...at }));

const hashtagArb = atomFrom(
  fc
    .string({ unit: fc.constantFrom(...'abZ1_ブクログー落・ｂ'), minLength: 1, maxLength: 6 })
    .map((s) => `#${s}`),
  'hashtag',
);
const handle = fc.stringMatching(/^[A-Za-z0-9_]{1,12}(@[a-z]{1,6}\.[a-z]{2,3})?$/u);
const mentionArb = atomFrom(
  handle.map((h) => `@${h}`),
  'mention',
);
const fromArb: fc.Arbitrary<QueryNode> = handle.map((h) => ({ type: 'from', value: h.toLowerCase(), ...at }));
const urlArb: fc.Arbitrary<QueryNode> = fc
  .string({ unit: fc.constantFrom(...'abc.-/?=_:()「」』"#@'), minLength: 1, maxLength: 12 })
  .filter((value) => !(value.includes('"') && value.includes('」') && value.includes('』')))
  .map((value) => ({ type: 'url', value, ...at }));
const langArb: fc.Arbitrary<QueryNode> = fc
  .stringMatching(/^[a-z]{2,3}$/u)
  .map((value) => ({ type: 'lang', value, ...at }));
const isArb: fc.Arbitrary<QueryNode> = fc
  .constantFrom('reply' as const, 'repost' as const)
  .map((value) => ({ type: 'is', value, ...at }));

const positiveAtom = fc.oneof(termArb, termArb, phraseArb, hashtagArb, mentionArb, fromArb, urlArb);

function group(type: 'and' | 'or', parts: readonly QueryNode[]): QueryNode {
  const children = parts.flatMap((part) => (part.type === type ? part.children : [part]));
  return { type, children, ...at };
}

const { positive } = fc.letrec<{ positive: QueryNode; any: QueryNode }>((tie) => ({
  positive: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    positiveAtom,
    fc
      .tuple(tie('positive'), fc.array(tie('any'), { minLength: 1, maxLength: 3 }), fc.nat())
      .map(([required, others, index]) => {
        const parts = [...others];
        parts.splice(index % (parts.length + 1), 0, required);
        return group('and', parts);
      }),
    fc.array(tie('positive'), { minLength: 2, maxLength: 3 }).map((parts) => group('or', parts)),
  ),
  any: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('positive'),
    langArb,
    isArb,
    tie('any').map((child): QueryNode => ({ type: 'not', child, ...at })),
  ),
}));

describe('formatQuery — round trip', () => {
  it('parseQuery(formatQuery(ast)) equals ast for generated ASTs', () => {
    fc.assert(
      fc.property(positive, (ast) => {
        const printed = formatQuery(ast);
        fc.pre(printed.length <= MAX_QUERY_LENGTH);
        const result = tryParseQuery(printed);
        if (!result.ok) throw new Error(`${printed}: ${result.error.code} ${result.error.message}`);
        expect(strip(result.ast)).toEqual(strip(ast));
      }),
      { numRuns: 1000 },
    );
  });
});
